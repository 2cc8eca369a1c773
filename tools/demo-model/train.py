"""Train the Archipelago demo diffusion model (CPU, Debian python3-torch 1.13).

    /usr/bin/python3 tools/demo-model/train.py ae        # 1. autoencoder (8x down, 4 ch)
    /usr/bin/python3 tools/demo-model/train.py encode    # 2. pre-encode multi-size latents
    /usr/bin/python3 tools/demo-model/train.py text      # 3. text encoder (attribute heads)
    /usr/bin/python3 tools/demo-model/train.py unet --minutes 60   # 4. UNet, text encoder frozen
                                                          #    (resumes from ckpt/ if present)

All randomness is seeded (SEED below).  Work files go to tools/demo-model/work/ (ignored);
the small checkpoints ae.pt and ckpt/unet_ema.pt are committed.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads crawl on busy cores
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dataset as ds  # noqa: E402
from train_common import Meter, optimizer_step, pretrain_text  # noqa: E402
from models import DOWN, Decoder, Encoder, TextEncoder, TextHeads, UNet, alphas_cumprod_cosine, count  # noqa: E402

SEED = 20261125
WORK = os.path.join(HERE, "work")
CKPT = os.path.join(HERE, "ckpt")
AE_PATH = os.path.join(HERE, "ae.pt")
TEXT_PATH = os.path.join(HERE, "ckpt", "text.pt")
# latent (h, w) buckets used for training; 256x256 images are the main bucket
BUCKETS = [(64, 64), (96, 96), (128, 128), (64, 96), (96, 64), (64, 128), (128, 64), (96, 128), (128, 96)]
BUCKET_P = [0.6] + [0.4 / 8] * 8
N_MAIN, N_OTHER = 5000, 300
PIX_PER_BATCH = 32 * 64 * 64  # batch 32 at 64x64 latents (256x256 images), 8 at 128x128
torch.set_num_threads(2)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def to_tensor(img):
    return torch.from_numpy(img.copy()).permute(2, 0, 1).float() / 127.5 - 1.0


def vocab_index():
    vocab = ds.vocabulary()
    return vocab, {w: i for i, w in enumerate(vocab)}


# ------------------------------------------------------------------ 1. autoencoder
def _edges(x):
    return (x[:, :, :, 1:] - x[:, :, :, :-1]).abs(), (x[:, :, 1:] - x[:, :, :-1]).abs()


def train_ae(steps=1200, batch=16, minutes=None):
    """Autoencoder, 4x down.  Crops are centred near the shape 70 % of the time (a shape is
    2-10 % of a scene) and the loss adds an edge term (L1 between image gradients) so
    outlines stay sharp: the shape's outline is what tells a star from a circle."""
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    enc, dec = Encoder(), Decoder()
    aeparams = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(aeparams, 1e-3)
    t0 = time.time()
    crop = 128
    step = 0
    while step < steps and (minutes is None or time.time() - t0 < minutes * 60):
        imgs = []
        for _ in range(batch):
            sc = ds.Scene.random(rng)
            w, h = rng.choice(range(256, 513, 64)), rng.choice(range(256, 513, 64))
            im = ds.render(sc, w, h)
            if rng.random() < 0.7:
                cx, cy, _ = ds.shape_centre_radius(sc, w, h)
                x0 = int(min(max(0, cx - crop / 2 + rng.uniform(-32, 32)), w - crop)) // DOWN * DOWN
                y0 = int(min(max(0, cy - crop / 2 + rng.uniform(-32, 32)), h - crop)) // DOWN * DOWN
            else:
                x0 = rng.randrange(0, w - crop + 1, DOWN)
                y0 = rng.randrange(0, h - crop + 1, DOWN)
            imgs.append(to_tensor(im[y0:y0 + crop, x0:x0 + crop]))
        x = torch.stack(imgs)
        z = enc(x)
        zn = z + 0.1 * torch.randn_like(z)  # decoder must tolerate imperfect latents
        r = dec(zn)
        gx, gy = _edges(x)
        rx, ry = _edges(r)
        loss = (F.mse_loss(r, x) + 0.5 * (r - x).abs().mean() + 1e-2 * z.pow(2).mean()
                + 0.5 * ((rx - gx).abs().mean() + (ry - gy).abs().mean()))
        frac = step / steps if minutes is None else max(step / steps, (time.time() - t0) / (minutes * 60))
        lr = 1e-3 * min(1.0, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(aeparams, 1.0)
        opt.step()
        step += 1
        if step % 50 == 0 or step == steps:
            log(f"ae step {step} loss {loss.item():.4f} z std {z.std().item():.3f} {time.time() - t0:.0f}s")
        if step % 200 == 0:
            torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "steps": step,
                        "seconds": time.time() - t0, "down": DOWN}, AE_PATH + ".tmp")
    torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "steps": step,
                "seconds": time.time() - t0, "down": DOWN}, AE_PATH)
    log("saved", AE_PATH)


# ------------------------------------------------------------------ 2. latents
def encode():
    ae = torch.load(AE_PATH)
    assert ae.get("down", 8) == DOWN, "ae.pt has another latent downscale: retrain it (train.py ae)"
    enc = Encoder()
    enc.load_state_dict(ae["encoder"])
    enc.eval()
    held = set(ds.load_heldout())
    rng = random.Random(SEED + 1)
    os.makedirs(WORK, exist_ok=True)
    out = {}
    t0 = time.time()
    all_z = []
    for (lh, lw) in BUCKETS:
        n = N_MAIN if (lh, lw) == BUCKETS[0] else N_OTHER
        scenes, zs = [], []
        for i in range(0, n, 64):
            batch = []
            for _ in range(min(64, n - i)):
                sc = ds.Scene.random(rng, exclude=held)
                scenes.append((sc.shape, sc.colour, sc.background, sc.size, sc.position))
                batch.append(to_tensor(ds.render(sc, lw * DOWN, lh * DOWN)))
            with torch.no_grad():
                zs.append(enc(torch.stack(batch)).half())
        z = torch.cat(zs)
        all_z.append(z[:500].float())
        out[f"{lh}x{lw}"] = {"z": z, "scenes": scenes}
        log(f"encoded {n} at {lw * DOWN}x{lh * DOWN} ({time.time() - t0:.0f}s)")
    allz = torch.cat([a.flatten() for a in all_z])
    std = allz.std().item()
    out["std"] = std
    out["mean"] = allz.mean().item()
    torch.save(out, os.path.join(WORK, "latents.pt"))
    log(f"latent std {std:.4f} mean {out['mean']:.4f} -> scale {1 / std:.4f}")


# ------------------------------------------------------------------ 3. text encoder
def train_text(steps=1500, batch=256, lr=1e-3):
    """Pre-train the text encoder to read every attribute out of a prompt (SD's encoder is
    pre-trained too).  Seconds of CPU instead of the UNet learning English on the side."""
    vocab, vidx = vocab_index()
    rng = random.Random(SEED + 3)
    torch.manual_seed(SEED + 3)
    te = TextEncoder(len(vocab))
    sizes = [len(v) for v in ds.LABEL_HEADS.values()]
    heads = TextHeads(sizes)
    held = set(ds.load_heldout())
    t0 = time.time()

    def batch_of(n, only=None):
        ids, labels = [], []
        for _ in range(n):
            sc = ds.Scene.random(rng, exclude=None if only else held, only=only)
            text, lab = ds.prompt_with_labels(sc, rng)
            ids.append(ds.tokenize(text, vidx))
            labels.append(lab)
        return torch.tensor(ids, dtype=torch.int32), torch.tensor(labels)

    acc = pretrain_text(te, heads, batch_of, held, steps, batch, lr, log)
    log("held-out accuracy", dict(zip(ds.LABEL_HEADS, [round(a, 4) for a in acc])))
    os.makedirs(CKPT, exist_ok=True)
    torch.save({"te": te.state_dict(), "vocab": vocab, "steps": steps, "seconds": time.time() - t0,
                "heldout_accuracy": dict(zip(ds.LABEL_HEADS, acc))}, TEXT_PATH)
    log("saved", TEXT_PATH)


# ------------------------------------------------------------------ 4. UNet
def shape_weight(x0, boost=6.0):
    """Per-pixel loss weight: the shape covers 2-10 % of a scene, so a plain MSE is nearly all
    background and the shape (its colour and place) was learned last, if at all.  Latents far
    from the scene's median latent are the shape's; the border ring is the autoencoder's
    padding, the same in every scene.  Normalised so the mean weight is 1."""
    bg = x0.flatten(2).median(dim=2).values[:, :, None, None]
    fg = ((x0 - bg) ** 2).sum(1, keepdim=True) > 1.0
    fg[:, :, :1] = False
    fg[:, :, -1:] = False
    fg[:, :, :, :1] = False
    fg[:, :, :, -1:] = False
    w = 1.0 + boost * fg.float()
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


def train_unet(minutes, lr=1e-3, ema_decay=0.999, ckpt_every=240, warm_start=None):
    data = torch.load(os.path.join(WORK, "latents.pt"))
    scale = 1.0 / data["std"]
    vocab, vidx = vocab_index()
    torch.manual_seed(SEED)
    te, unet = TextEncoder(len(vocab)), UNet(patch=8 // DOWN)
    ema_te, ema_unet = TextEncoder(len(vocab)), UNet(patch=8 // DOWN)
    te.load_state_dict(torch.load(TEXT_PATH)["te"])
    te.requires_grad_(False)  # frozen, as SD's is
    params = list(unet.parameters())
    opt = torch.optim.AdamW(params, lr, weight_decay=0.01)
    step, seconds = 0, 0.0
    rng = random.Random(SEED + 2)
    full = os.path.join(CKPT, "full.pt")
    if os.path.exists(full):
        ck = torch.load(full)
        te.load_state_dict(ck["te"]); unet.load_state_dict(ck["unet"])
        ema_te.load_state_dict(ck["ema_te"]); ema_unet.load_state_dict(ck["ema_unet"])
        opt.load_state_dict(ck["opt"])
        step, seconds = ck["step"], ck["seconds"]
        rng.setstate(ck["rng"]); torch.set_rng_state(ck["torch_rng"])
        log(f"resumed at step {step} ({seconds / 60:.1f} min trained)")
    elif warm_start:
        # a checkpoint of another latent layout (the 8x model): every layer whose shape still
        # fits is copied (text pathway, attention, ResBlocks); the patch embedding and output
        # conv start fresh
        ck = torch.load(warm_start)
        own = unet.state_dict()
        take = {k: v for k, v in ck["ema_unet"].items() if k in own and own[k].shape == v.shape}
        unet.load_state_dict(take, strict=False)
        ema_unet.load_state_dict(unet.state_dict())
        log(f"warm start from {warm_start}: {len(take)}/{len(own)} tensors")
    elif os.path.exists(os.path.join(CKPT, "unet_ema.pt")):  # committed slim checkpoint
        ck = torch.load(os.path.join(CKPT, "unet_ema.pt"))
        if ck.get("down", 8) != DOWN:
            sys.exit("ckpt/unet_ema.pt has another latent layout: pass it as --warm-start instead")
        for m_, e_ in ((te, "ema_te"), (unet, "ema_unet")):
            m_.load_state_dict(ck[e_])
        ema_te.load_state_dict(ck["ema_te"]); ema_unet.load_state_dict(ck["ema_unet"])
        step, seconds = ck["step"], ck["seconds"]
        log(f"resumed from slim EMA checkpoint at step {step} (fresh optimizer)")
    else:
        ema_te.load_state_dict(te.state_dict()); ema_unet.load_state_dict(unet.state_dict())
        log(f"fresh: unet {count(unet)} params, text encoder {count(te)} params, scale {scale:.4f}")
    ema_te.load_state_dict(te.state_dict())
    ema_params = list(ema_unet.parameters())
    acp = alphas_cumprod_cosine()
    os.makedirs(CKPT, exist_ok=True)

    def save():
        ck = {"te": te.state_dict(), "unet": unet.state_dict(), "ema_te": ema_te.state_dict(),
              "ema_unet": ema_unet.state_dict(), "opt": opt.state_dict(), "step": step,
              "seconds": seconds, "rng": rng.getstate(), "torch_rng": torch.get_rng_state(),
              "vocab": vocab, "scale": scale}
        torch.save(ck, full + ".tmp")
        os.replace(full + ".tmp", full)
        slim = {"ema_te": ema_te.state_dict(), "ema_unet": ema_unet.state_dict(), "step": step,
                "seconds": seconds, "vocab": vocab, "scale": scale, "seed": SEED, "down": DOWN}
        torch.save(slim, os.path.join(CKPT, "unet_ema.pt.tmp"))
        os.replace(os.path.join(CKPT, "unet_ema.pt.tmp"), os.path.join(CKPT, "unet_ema.pt"))
        with open(os.path.join(CKPT, "progress.json"), "w") as f:
            json.dump({"step": step, "minutes": round(seconds / 60, 1), "loss": round(avg, 5)}, f)

    keys = [f"{h}x{w}" for h, w in BUCKETS]
    t_start = time.time()
    t_end = t_start + minutes * 60
    last_ck = time.time()
    avg, meter = None, Meter(log)
    while time.time() < t_end:
        t0 = time.time()
        b = rng.choices(range(len(BUCKETS)), BUCKET_P)[0]
        lh, lw = BUCKETS[b]
        bsz = PIX_PER_BATCH // (lh * lw)
        d = data[keys[b]]
        idx = [rng.randrange(len(d["scenes"])) for _ in range(bsz)]
        x0 = d["z"][idx].float() * scale
        ids = []
        for i in idx:
            if rng.random() < 0.1:
                ids.append([0] * ds.MAX_LEN)
            else:
                sh, co, bg, si, po = d["scenes"][i]
                ids.append(ds.tokenize(ds.prompt(ds.Scene(sh, co, bg, si, po), rng), vidx))
        ids = torch.tensor(ids, dtype=torch.int32)
        # timesteps: uniform, plus extra weight on high noise where layout/colour are decided
        # and on the middle, where the outline (which shape) is decided
        u, c = torch.rand(bsz), torch.rand(bsz)
        t = torch.where(c < 0.25, 500 + u * 500, torch.where(c < 0.5, 150 + u * 450, u * 1000)).long().clamp(0, 999)
        a = acp[t].sqrt()[:, None, None, None]
        s = (1 - acp[t]).sqrt()[:, None, None, None]
        eps = torch.randn_like(x0)
        xt = a * x0 + s * eps
        v = a * eps - s * x0
        with torch.no_grad():
            ctx = te(ids)
        pred = unet(xt, t, ctx)
        loss = (shape_weight(x0) * (pred - v) ** 2).mean()
        step = optimizer_step(opt, loss, params, lr, step, (time.time() - t_start) / (minutes * 60), ema_params, ema_decay)
        seconds += time.time() - t0
        meter.add(step, loss.item(), bsz, seconds)
        avg = meter.avg
        if time.time() - last_ck > ckpt_every:
            save()
            last_ck = time.time()
            log("checkpoint", step)
    save()
    log("done", step)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["ae", "encode", "text", "unet"])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--ae-steps", type=int, default=1200)
    ap.add_argument("--warm-start", default=None, help="copy matching UNet layers from this slim checkpoint")
    ap.add_argument("--ae-minutes", type=float, default=None, help="stop the autoencoder early")
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    if args.phase == "ae":
        train_ae(args.ae_steps, minutes=args.ae_minutes)
    elif args.phase == "encode":
        encode()
    elif args.phase == "text":
        train_text()
    else:
        train_unet(args.minutes, lr=args.lr, warm_start=args.warm_start)
