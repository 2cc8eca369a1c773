"""Training and sampling on the designed latent (designed.py): the decoder's sprites, the
UNet, and the sampler, shared by the objects model and shapes model v4."""
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from designed import DOWN, LATENT_PIX_PER_BATCH, SIZE_P, SIZES, UNet, alphas_cumprod_cosine, count, log, save
from sampling import ddim_step, timesteps  # tools/demo-model, on the path via designed
from train_common import Meter, optimizer_step


def init_sprites(dec, pictures):
    """Each sprite starts as its thing's picture (float RGBA [tex, tex, 4] in [0, 1]): learned
    from zero, one sprite in 129 gets a gradient per scene, and Adam's bounded steps took
    thousands of steps to move them (tried: the loss had not moved after 100)."""
    with torch.no_grad():
        for i, pic in enumerate(pictures):
            a = torch.from_numpy(np.asarray(pic, np.float32)).permute(2, 0, 1)
            alpha = a[3:4].clamp(1e-3, 1 - 1e-3)
            dec.alpha[i] = torch.log(alpha / (1 - alpha))
            if not dec.tint:
                dec.rgb[i] = a[:3] * 2 - 1


def to_tensor(img):
    return torch.from_numpy(img.copy()).permute(2, 0, 1).float() / 127.5 - 1.0


def train_decoder(dec, draw, path, seed, steps=200, batch=12, lr=0.003):
    """Fine-tunes the sprites on rendered scenes of every size.  draw(rng, w, h) -> (image
    uint8 [h, w, 3], latent)."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam([p for p in dec.parameters() if p.requires_grad], lr)
    t0 = time.time()
    for step in range(steps):
        w, h = rng.choices(SIZES, SIZE_P)[0]
        pairs = [draw(rng, w, h) for _ in range(batch)]
        x = torch.stack([to_tensor(img) for img, _ in pairs])
        z = torch.stack([torch.from_numpy(lat) for _, lat in pairs])
        loss = F.mse_loss(dec(z), x)
        opt.zero_grad()
        loss.backward()
        for g in opt.param_groups:
            g["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            log(f"decoder step {step} loss {loss.item():.5f} {time.time() - t0:.0f}s")
    save({"decoder": dec.state_dict(), "steps": steps, "seconds": time.time() - t0}, path)


def object_weight(x0, boost=5.0):
    """The thing's square covers 4-20 % of a scene; weighting its latent pixels keeps a plain
    MSE from being nearly all background (the shapes model learned its shape last)."""
    w = 1.0 + boost * ((x0[:, 3:4] + 1) * 0.5).clamp(0, 1)
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


def train_unet(task, minutes, lr=1e-3, ema_decay=0.999, ckpt_every=180):
    """task: .ckpt_dir, .seed, .channels, .unet_ch, .text_encoder() (frozen), .tokenize(text),
    .max_len, .draw(rng, w, h) -> (latent, prompt) of a training scene.  Resumes from
    ckpt_dir/full.pt; this run's learning rate is constant, then a cosine to 10 % over its
    second half."""
    torch.manual_seed(task.seed)
    te = task.text_encoder()
    te.requires_grad_(False)  # frozen, as SD's is
    make = lambda: UNet(ch=task.unet_ch, patch=1, channels=task.channels)  # noqa: E731
    unet, ema = make(), make()
    opt = torch.optim.AdamW(unet.parameters(), lr, weight_decay=0.01)
    step, seconds, avg = 0, 0.0, None
    rng = random.Random(task.seed + 3)
    full = os.path.join(task.ckpt_dir, "full.pt")
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
              "seconds": seconds, "avg": meter.avg, "rng": rng.getstate(), "torch_rng": torch.get_rng_state()}, full)
        save({"ema_unet": ema.state_dict(), "step": step, "seconds": seconds, "seed": task.seed, "ch": task.unet_ch},
             os.path.join(task.ckpt_dir, "unet_ema.pt"))
        with open(os.path.join(task.ckpt_dir, "progress.json"), "w") as f:
            json.dump({"step": step, "minutes": round(seconds / 60, 1), "loss": round(meter.avg, 5)}, f)

    t_start = time.time()
    t_end, last_ck, meter = t_start + minutes * 60, t_start, Meter(log, avg)
    while time.time() < t_end:
        t0 = time.time()
        w, h = rng.choices(SIZES, SIZE_P)[0]
        bsz = max(4, LATENT_PIX_PER_BATCH // ((w // DOWN) * (h // DOWN)))
        ids, zs = [], []
        for _ in range(bsz):
            lat, text = task.draw(rng, w, h)
            zs.append(torch.from_numpy(lat))
            ids.append([0] * task.max_len if rng.random() < 0.1 else task.tokenize(text))
        x0, ids = torch.stack(zs), torch.tensor(ids, dtype=torch.int32)
        u, c = torch.rand(bsz), torch.rand(bsz)
        t = torch.where(c < 0.3, 500 + u * 500, u * 1000).long().clamp(0, 999)
        a, s_ = acp[t].sqrt()[:, None, None, None], (1 - acp[t]).sqrt()[:, None, None, None]
        eps = torch.randn_like(x0)
        with torch.no_grad():
            ctx = te(ids)
        pred = unet(a * x0 + s_ * eps, t, ctx)
        loss = (object_weight(x0) * (pred - (a * eps - s_ * x0)) ** 2).mean()
        step = optimizer_step(opt, loss, params, lr, step, (time.time() - t_start) / (minutes * 60), ema_params, ema_decay)
        seconds += time.time() - t0
        meter.add(step, loss.item(), bsz, seconds)
        if time.time() - last_ck > ckpt_every:
            checkpoint()
            last_ck = time.time()
    checkpoint()
    log("done", step)


class Model:
    """A trained designed-latent model, sampled exactly as docs/model-format.md says (the
    shapes model's DDIM step and timesteps)."""

    def __init__(self, te, unet, dec, tokenize, channels):
        self.te, self.unet, self.dec, self.tokenize, self.channels = te, unet, dec, tokenize, channels
        for m in (te, unet, dec):
            m.eval()

    @torch.no_grad()
    def latents(self, prompts, width, height, steps, guidance, seeds=None, noise=None):
        n = len(prompts)
        if noise is None:
            noise = torch.cat([torch.randn(1, self.channels, height // DOWN, width // DOWN,
                                           generator=torch.Generator().manual_seed(s)) for s in seeds])
        x = noise.clone()
        ctx = self.te(torch.tensor([self.tokenize(p) for p in [""] + list(prompts)], dtype=torch.int32))
        ctx = torch.cat([ctx[:1].expand(n, -1, -1), ctx[1:]])
        ts = timesteps(steps)
        for i, t in enumerate(ts):
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            out = self.unet(x.repeat(2, 1, 1, 1), torch.full((2 * n,), t, dtype=torch.int64), ctx)
            out = out[:n] + guidance * (out[n:] - out[:n])
            x = ddim_step(x, out, t, t_prev)
        return x

    @torch.no_grad()
    def sample_batch(self, prompts, width, height, steps=12, guidance=3.0, seeds=None, noise=None):
        img = ((self.dec(self.latents(prompts, width, height, steps, guidance, seeds, noise)) + 1) / 2).clamp(0, 1)
        return (img.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
