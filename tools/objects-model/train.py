"""Train the objects model (CPU, Debian python3-torch 1.13).

    /usr/bin/python3 tools/objects-model/train.py text              # 1. text encoder (attribute heads)
    /usr/bin/python3 tools/objects-model/train.py decoder           # 2. the decoder's sprites
    /usr/bin/python3 tools/objects-model/train.py unet --minutes 60 # 3. UNet (resumes from ckpt/full.pt)

Run with OMP_WAIT_POLICY=PASSIVE and LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread
(a step is several times slower without).  Every phase is seeded (SEED); the UNet phase
checkpoints every few minutes and resumes where it stopped.  Work files go to work/ and
ckpt/full.pt (ignored); the slim checkpoints ckpt/{text,decoder,unet_ema}.pt are committed.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import json
import math
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenes as sc  # noqa: E402
from nets import SpriteDecoder, TextEncoder, TextHeads, UNet, alphas_cumprod_cosine, count  # noqa: E402

SEED = 20261127
CKPT = os.path.join(HERE, "ckpt")
UNET_CH = (48, 96, 128)
# image sizes trained on (256x256 is the main one); the UNet sees their latents
SIZES = [(256, 256), (384, 384), (512, 512), (256, 384), (384, 256), (256, 512), (512, 256), (384, 512), (512, 384),
         (320, 320), (448, 448)]
SIZE_P = [0.5] + [0.05] * 10
LATENT_PIX_PER_BATCH = 64 * 16 * 16
torch.set_num_threads(2)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def vocab_index():
    vocab = sc.vocabulary()
    return vocab, {w: i for i, w in enumerate(vocab)}


def ckpt(name):
    return os.path.join(CKPT, name)


def save(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


# ------------------------------------------------------------------ 1. text encoder
def train_text(steps=1500, batch=256, lr=1e-3):
    """Pre-train the text encoder to read every attribute out of a prompt, then freeze it
    (the shapes model's lesson: learned from the diffusion loss alone, it never sorted out
    which colour word is whose)."""
    vocab, vidx = vocab_index()
    rng = random.Random(SEED + 1)
    torch.manual_seed(SEED + 1)
    te = TextEncoder(len(vocab))
    heads = TextHeads([len(v) for v in sc.LABEL_HEADS.values()])
    params = list(te.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    held = sc.load_heldout()
    t0 = time.time()

    def batch_of(n, only=None):
        ids, labels = [], []
        for _ in range(n):
            s = sc.Scene.random(rng, exclude=None if only else held, two_colour=0.3)
            if only:
                thing, top, pos = only[rng.randrange(len(only))]
                s = sc.Scene(thing, top, top, s.size, pos)
            text, lab = sc.prompt_with_labels(s, rng)
            ids.append(sc.tokenize(text, vidx))
            labels.append(lab)
        return torch.tensor(ids, dtype=torch.int32), torch.tensor(labels)

    for step in range(steps):
        ids, labels = batch_of(batch)
        loss = sum(F.cross_entropy(lg, labels[:, i]) for i, lg in enumerate(heads(te(ids))))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"text step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s")
    with torch.no_grad():
        ids, labels = batch_of(2000, only=sorted(held))
        acc = [(lg.argmax(1) == labels[:, i]).float().mean().item() for i, lg in enumerate(heads(te(ids)))]
    acc = dict(zip(sc.LABEL_HEADS, [round(a, 4) for a in acc]))
    log("held-out accuracy", acc)
    save({"te": te.state_dict(), "vocab": vocab, "steps": steps, "seconds": time.time() - t0,
          "heldout_accuracy": acc}, ckpt("text.pt"))


# ------------------------------------------------------------------ 2. decoder sprites
def to_tensor(img):
    return torch.from_numpy(img.copy()).permute(2, 0, 1).float() / 127.5 - 1.0


def init_sprites(dec):
    """Each sprite starts as its thing's rendering at the sprite size: learned from zero, one
    sprite in 129 gets a gradient per scene, and Adam's bounded steps took thousands of steps
    to move them (tried: the loss had not moved after 100)."""
    with torch.no_grad():
        for i, thing in enumerate(sc.ICONS):
            a = torch.from_numpy(np.asarray(sc.sprite(thing, dec.tex), np.float32) / 255).permute(2, 0, 1)
            alpha = a[3:4].clamp(1e-3, 1 - 1e-3)
            dec.alpha[i] = torch.log(alpha / (1 - alpha))
            dec.rgb[i] = a[:3] * 2 - 1


def train_decoder(steps=200, batch=12, lr=0.003):
    """The sprites, fine-tuned on rendered scenes of every size (the target is the resvg
    rendering composed by scenes.render; the decoder draws from the designed latent)."""
    rng = random.Random(SEED + 2)
    torch.manual_seed(SEED + 2)
    dec = SpriteDecoder(torch.from_numpy(sc.CODES))
    init_sprites(dec)
    opt = torch.optim.Adam([dec.rgb, dec.alpha], lr)
    t0 = time.time()
    for step in range(steps):
        w, h = rng.choices(SIZES, SIZE_P)[0]
        scs = [sc.Scene.random(rng, two_colour=0.3) for _ in range(batch)]
        x = torch.stack([to_tensor(sc.render(s, w, h)) for s in scs])
        z = torch.stack([torch.from_numpy(sc.latent(s, w, h)) for s in scs])
        loss = F.mse_loss(dec(z), x)
        opt.zero_grad()
        loss.backward()
        for g in opt.param_groups:
            g["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            log(f"decoder step {step} loss {loss.item():.5f} {time.time() - t0:.0f}s")
    save({"decoder": dec.state_dict(), "steps": steps, "seconds": time.time() - t0}, ckpt("decoder.pt"))


# ------------------------------------------------------------------ 3. UNet
def thing_weight(x0, boost=5.0):
    """The thing's square covers 4-20 % of a scene; weighting its latent pixels keeps a plain
    MSE from being nearly all background (the shapes model learned its shape last)."""
    w = 1.0 + boost * ((x0[:, 3:4] + 1) * 0.5).clamp(0, 1)
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


def train_unet(minutes, lr=1e-3, ema_decay=0.999, ckpt_every=180):
    vocab, vidx = vocab_index()
    torch.manual_seed(SEED)
    te = TextEncoder(len(vocab))
    te.load_state_dict(torch.load(ckpt("text.pt"))["te"])
    te.requires_grad_(False)  # frozen, as SD's is
    unet, ema = UNet(ch=UNET_CH, patch=1, channels=sc.CHANNELS), UNet(ch=UNET_CH, patch=1, channels=sc.CHANNELS)
    opt = torch.optim.AdamW(unet.parameters(), lr, weight_decay=0.01)
    step, seconds, avg = 0, 0.0, None
    rng = random.Random(SEED + 3)
    held = sc.load_heldout()
    full = ckpt("full.pt")
    if os.path.exists(full):
        ck = torch.load(full)
        unet.load_state_dict(ck["unet"]); ema.load_state_dict(ck["ema"]); opt.load_state_dict(ck["opt"])
        step, seconds, avg = ck["step"], ck["seconds"], ck["avg"]
        rng.setstate(ck["rng"]); torch.set_rng_state(ck["torch_rng"])
        log(f"resumed at step {step} ({seconds / 60:.1f} min trained)")
    else:
        ema.load_state_dict(unet.state_dict())
        log(f"fresh: unet {count(unet)} params, text encoder {count(te)}")
    params, ema_params = list(unet.parameters()), list(ema.parameters())
    acp = alphas_cumprod_cosine()

    def checkpoint():
        save({"unet": unet.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
              "seconds": seconds, "avg": avg, "rng": rng.getstate(), "torch_rng": torch.get_rng_state()}, full)
        save({"ema_unet": ema.state_dict(), "step": step, "seconds": seconds, "seed": SEED, "ch": UNET_CH},
             ckpt("unet_ema.pt"))
        with open(ckpt("progress.json"), "w") as f:
            json.dump({"step": step, "minutes": round(seconds / 60, 1), "loss": round(avg, 5)}, f)

    t_start = time.time()
    t_end, last_ck, t_log, n_img = t_start + minutes * 60, t_start, t_start, 0
    while time.time() < t_end:
        t0 = time.time()
        w, h = rng.choices(SIZES, SIZE_P)[0]
        bsz = max(4, LATENT_PIX_PER_BATCH // ((w // sc.DOWN) * (h // sc.DOWN)))
        ids, zs = [], []
        for _ in range(bsz):
            s = sc.Scene.random(rng, exclude=held, two_colour=0.2)
            zs.append(torch.from_numpy(sc.latent(s, w, h)))
            ids.append([0] * sc.MAX_LEN if rng.random() < 0.1 else sc.tokenize(sc.prompt_with_labels(s, rng)[0], vidx))
        x0, ids = torch.stack(zs), torch.tensor(ids, dtype=torch.int32)
        u, c = torch.rand(bsz), torch.rand(bsz)
        t = torch.where(c < 0.3, 500 + u * 500, u * 1000).long().clamp(0, 999)
        a, s_ = acp[t].sqrt()[:, None, None, None], (1 - acp[t]).sqrt()[:, None, None, None]
        eps = torch.randn_like(x0)
        with torch.no_grad():
            ctx = te(ids)
        pred = unet(a * x0 + s_ * eps, t, ctx)
        loss = (thing_weight(x0) * (pred - (a * eps - s_ * x0)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        frac = (time.time() - t_start) / (minutes * 60)  # this run: constant, then cosine to 10 %
        decay = 1.0 if frac < 0.5 else 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, (frac - 0.5) / 0.5)))
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / 200) * decay
        opt.step()
        step += 1
        dec = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema_params, params):
                pe.mul_(dec).add_(p.detach(), alpha=1 - dec)
        seconds += time.time() - t0
        n_img += bsz
        avg = loss.item() if avg is None else 0.98 * avg + 0.02 * loss.item()
        if step % 50 == 0:
            log(f"step {step} loss {avg:.4f} {n_img / (time.time() - t_log):.1f} img/s trained {seconds / 60:.1f} min")
            t_log, n_img = time.time(), 0
        if time.time() - last_ck > ckpt_every:
            checkpoint()
            last_ck = time.time()
    checkpoint()
    log("done", step)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["text", "decoder", "unet"])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    if args.phase == "text":
        train_text()
    elif args.phase == "decoder":
        train_decoder()
    else:
        train_unet(args.minutes, lr=args.lr)
