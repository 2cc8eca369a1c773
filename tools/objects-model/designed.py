"""A designed latent space and what works on it, shared by the objects model (scenes.py) and
the shapes model v4 (tools/demo-model/designed_shapes.py).

The latent is not learned by an autoencoder: it is written from the scene — 16x down, the
background's RGB, the coverage of the thing's square, then per thing either a code (the
objects model: the sprite's colours are the thing's own) or an RGB colour and a code (the
shapes model: a shape takes any colour), each times the coverage.  An autoencoder learned
on a 2-core CPU kept colours and places but lost outlines (the shapes model's lesson,
issue 17), and a diffusion model learns "a blob of this colour here" far faster than "this
outline here".  So the UNet only paints a square of the right numbers at the right place
and size on the right background; the decoder reads them back and draws the thing:

* where: the centre of the coverage (its first moments) and the side (the square root of
  its area), robust to the UNet's small errors because they are sums over the whole latent;
* what: the coverage-weighted mean code, matched against every thing's code (softmax);
* how it looks: one learned RGBA (or alpha-only, tinted) sprite per thing, blended by those
  weights and drawn into the square by separable bilinear sampling — two matrix products, no
  GridSample, so every onnxruntime backend runs it; the background is the latent's RGB,
  upsampled.  The sprites are the decoder's only weights.

designed_train.py is the diffusion half: the shapes model's text encoder and UNet
(tools/demo-model/models.py) trained and sampled on these latents.
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "demo-model"))
from models import TextEncoder, TextHeads, UNet, alphas_cumprod_cosine, count  # noqa: E402,F401

DOWN = 16
TEX = 96
COVERAGE_FLOOR = 0.2  # coverage below this is the UNet's noise, not the thing
# image sizes trained on (256x256 is the main one)
SIZES = [(256, 256), (384, 384), (512, 512), (256, 384), (384, 256), (256, 512), (512, 256), (384, 512), (512, 384),
         (320, 320), (448, 448)]
SIZE_P = [0.5] + [0.05] * 10
LATENT_PIX_PER_BATCH = 64 * 16 * 16


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def save(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def far_codes(n, dim, seed=7):
    """n codes of +-1, far apart (greedy: the candidate farthest from those kept)."""
    rng = np.random.default_rng(seed)
    cand = rng.choice([-1.0, 1.0], size=(4096, dim))
    kept = [cand[0]]
    dist = np.abs(cand - cand[0]).sum(1) / 2
    for _ in range(n - 1):
        i = int(np.argmax(dist))
        kept.append(cand[i])
        dist = np.minimum(dist, np.abs(cand - cand[i]).sum(1) / 2)
    return np.stack(kept).astype(np.float32)


def coverage_1d(lo, hi, n):
    """Fraction of each latent cell [i, i+1) covered by [lo, hi) (in latent cells)."""
    i = np.arange(n, dtype=np.float32)
    return np.clip(np.minimum(i + 1, hi) - np.maximum(i, lo), 0, 1)


def write_latent(w, h, top, bottom, square, code, tint=None):
    """[C, h/16, w/16]: background RGB (top half, bottom half; colours in [-1, 1]), the
    square's coverage mapped to [-1, 1], then (tint RGB and) the code, times the coverage.
    square = (centre x, centre y, side) in pixels."""
    lh, lw = h // DOWN, w // DOWN
    extra = 0 if tint is None else 3
    z = np.zeros((4 + extra + len(code), lh, lw), np.float32)
    frac_top = coverage_1d(0, lh / 2, lh)[:, None]
    z[0:3] = np.asarray(top, np.float32)[:, None, None] * frac_top + np.asarray(bottom, np.float32)[:, None, None] * (1 - frac_top)
    cx, cy, side = (v / DOWN for v in square)
    cov = coverage_1d(cy - side / 2, cy + side / 2, lh)[:, None] * coverage_1d(cx - side / 2, cx + side / 2, lw)[None]
    z[3] = cov * 2 - 1
    if tint is not None:
        z[4:7] = np.asarray(tint, np.float32)[:, None, None] * cov[None]
    z[4 + extra:] = np.asarray(code, np.float32)[:, None, None] * cov[None]
    return z


class SpriteDecoder(nn.Module):
    """Designed latent -> image [B, 3, 16h, 16w] in [-1, 1].  tint: alpha-only sprites painted
    in the latent's colour (channels 4-6), the code after it."""

    def __init__(self, codes, down=DOWN, tex=TEX, tint=False, halves=True):
        super().__init__()
        self.down, self.tex, self.tint, self.halves = down, tex, tint, halves
        n = codes.shape[0]
        self.register_buffer("codes", codes.clone())
        self.register_buffer("texel", torch.arange(tex, dtype=torch.float32))
        if not tint:
            self.rgb = nn.Parameter(torch.zeros(n, 3, tex, tex))
        self.alpha = nn.Parameter(torch.full((n, 1, tex, tex), -3.0))

    def background(self, rgb, weight):
        """Two flat colours, the top half's and the bottom half's: each the mean of its half's
        latent RGB away from the thing, so the UNet's leftover noise averages out."""
        rows = torch.cumsum(torch.ones_like(weight), dim=2)  # 1 .. h
        top = (rows <= rows[:, :, -1:, :] * 0.5).float() * weight
        bottom = (rows > rows[:, :, -1:, :] * 0.5).float() * weight
        c_top = (rgb * top).sum(dim=(2, 3)) / (top.sum(dim=(2, 3)) + 1e-4)  # [B, 3]
        c_bottom = (rgb * bottom).sum(dim=(2, 3)) / (bottom.sum(dim=(2, 3)) + 1e-4)
        mean = (rgb * weight).sum(dim=(2, 3)) / (weight.sum(dim=(2, 3)) + 1e-4)
        if not self.halves:
            return mean[:, :, None, None] * torch.ones_like(
                F.interpolate(rgb[:, :1], scale_factor=float(self.down), mode="nearest"))
        # halves a little apart are one plain colour with the UNet's noise in it (no seam; a
        # plain blue came out with halves up to 0.51 apart); clearly apart, two colours (the
        # nearest two palette colours, yellow and orange, are 0.67 apart in one channel)
        gap = (c_top - c_bottom).abs().amax(dim=1, keepdim=True)
        split = ((gap - 0.5) * 8).clamp(0, 1)
        c_top, c_bottom = mean + split * (c_top - mean), mean + split * (c_bottom - mean)
        ones = F.interpolate(torch.ones_like(rgb[:, :1]), scale_factor=float(self.down), mode="nearest")
        px_rows = torch.cumsum(ones, dim=2)
        upper = (px_rows <= px_rows[:, :, -1:, :] * 0.5).float()
        return upper * c_top[:, :, None, None] + (1 - upper) * c_bottom[:, :, None, None]

    def tents(self, coords, centre, side):
        """Bilinear weights of every texel for pixel centres `coords` [B, 1, N] in a square of
        `side` pixels centred at `centre` ([B, 1]): [B, N, T], zero outside the square."""
        t = ((coords - centre[:, :, None]) / side[:, :, None] + 0.5) * self.tex - 0.5
        return F.relu(1 - (t.transpose(1, 2) - self.texel).abs())

    def forward(self, latent_sample):
        z = latent_sample
        d = float(self.down)
        cov = ((z[:, 3:4] + 1) * 0.5).clamp(0, 1)
        bg = self.background(z[:, :3], 1 - cov)
        w = F.relu(cov - COVERAGE_FLOOR) * (1.0 / (1 - COVERAGE_FLOOR))
        mass = w.sum(dim=(2, 3)) + 1e-4  # [B, 1]
        cov_mass = (cov * w).sum(dim=(2, 3)) + 1e-4
        first = 7 if self.tint else 4
        code = (z[:, first:] * w).sum(dim=(2, 3)) / cov_mass  # [B, K]
        # codes are >= 4 signs apart, so a right code beats the next by >= 8 before this x4:
        # one sprite, not a ghostly blend of several when the UNet's code is a little off
        p = torch.softmax(code @ self.codes.t() * 4.0, dim=1)
        alpha = torch.sigmoid(self.alpha)
        if self.tint:
            sprites = alpha
        else:
            sprites = torch.cat([self.rgb * alpha, alpha], dim=1)
        ch = sprites.shape[1]
        tex = torch.matmul(p, sprites.flatten(1)).reshape(-1, ch, self.tex, self.tex)  # premultiplied
        ones = torch.ones_like(w)
        cx = (w * (torch.cumsum(ones, dim=3) - 0.5)).sum(dim=(2, 3)) / mass * d  # [B, 1] pixels
        cy = (w * (torch.cumsum(ones, dim=2) - 0.5)).sum(dim=(2, 3)) / mass * d
        side = torch.sqrt(mass) * d
        xs = torch.cumsum(torch.ones_like(bg[:, 0, :1, :]), dim=2) - 0.5  # [B, 1, W]
        ys = torch.cumsum(torch.ones_like(bg[:, 0, :, :1]).transpose(1, 2), dim=2) - 0.5  # [B, 1, H]
        ax, ay = self.tents(xs, cx, side), self.tents(ys, cy, side)  # [B, W, T], [B, H, T]
        drawn = torch.matmul(torch.matmul(ay[:, None], tex), ax.transpose(1, 2)[:, None])  # [B, ch, H, W]
        if self.tint:
            colour = (z[:, 4:7] * w).sum(dim=(2, 3)) / cov_mass  # [B, 3]
            return drawn * colour[:, :, None, None] + (1 - drawn) * bg
        return drawn[:, :3] + (1 - drawn[:, 3:4]) * bg
