"""Networks of the objects model.  The text encoder and the UNet are the shapes model's
(tools/demo-model/models.py); what is new is the latent space and its decoder.

The latent is designed, not learned (scenes.latent): 16x down, 20 channels — the
background's RGB, the coverage of the thing's square, and the thing's 16-number code times
that coverage.  An autoencoder learned on a 2-core CPU kept colours and places but lost
outlines (the shapes model's lesson, issue 17), and a diffusion model learns "a blob of
this colour here" far faster than "this outline here".  So the UNet only has to paint a
square of the right code, at the right place and size, on the right background; the decoder
reads that back and draws the thing:

* where: the centre of the coverage (its first moments) and the side (the square root of
  its area), robust to the UNet's small errors because they are sums over the whole latent;
* what: the coverage-weighted mean code, matched against every thing's code (softmax);
* how it looks: one learned 96x96 RGBA sprite per thing, blended by those weights and
  drawn into the square by separable bilinear sampling (two matrix products, no GridSample,
  so every onnxruntime backend runs it); the background is the latent's RGB, upsampled.

The sprites are the decoder's only weights: learned by gradient descent from rendered scenes
(train.py decoder), they are what the model knows of each thing's look.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "demo-model"))
from models import TextEncoder, TextHeads, UNet, alphas_cumprod_cosine, count  # noqa: E402,F401

TEX = 96
COVERAGE_FLOOR = 0.08  # coverage below this is the UNet's noise, not the thing


class SpriteDecoder(nn.Module):
    def __init__(self, codes, down=16, tex=TEX):
        super().__init__()
        self.down = down
        n, self.code_dim = codes.shape
        self.register_buffer("codes", codes.clone())
        self.register_buffer("texel", torch.arange(tex, dtype=torch.float32))
        self.rgb = nn.Parameter(torch.zeros(n, 3, tex, tex))
        self.alpha = nn.Parameter(torch.full((n, 1, tex, tex), -3.0))
        self.tex = tex

    def thing_weights(self, z):
        cov = ((z[:, 3:4] + 1) * 0.5).clamp(0, 1)
        w = F.relu(cov - COVERAGE_FLOOR) * (1.0 / (1 - COVERAGE_FLOOR))
        mass = w.sum(dim=(2, 3)) + 1e-4  # [B, 1]
        code = (z[:, 4:] * w).sum(dim=(2, 3)) / ((cov * w).sum(dim=(2, 3)) + 1e-4)  # [B, K]
        return torch.softmax(code @ self.codes.t(), dim=1), w, mass

    def forward(self, latent_sample):
        z = latent_sample
        d = float(self.down)
        bg = F.interpolate(z[:, :3], scale_factor=d, mode="bilinear", align_corners=False)
        p, w, mass = self.thing_weights(z)
        ones = torch.ones_like(w)
        cx = (w * (torch.cumsum(ones, dim=3) - 0.5)).sum(dim=(2, 3)) / mass * d  # [B, 1] pixels
        cy = (w * (torch.cumsum(ones, dim=2) - 0.5)).sum(dim=(2, 3)) / mass * d
        side = torch.sqrt(mass) * d
        sprites = torch.cat([self.rgb * torch.sigmoid(self.alpha), torch.sigmoid(self.alpha)], dim=1)
        tex = torch.matmul(p, sprites.flatten(1)).reshape(-1, 4, self.tex, self.tex)  # premultiplied
        px = torch.ones_like(bg[:, 0, :1, :])  # [B, 1, W]
        py = torch.ones_like(bg[:, 0, :, :1]).transpose(1, 2)  # [B, 1, H]
        xs = torch.cumsum(px, dim=2) - 0.5
        ys = torch.cumsum(py, dim=2) - 0.5
        tu = ((xs - cx[:, :, None]) / side[:, :, None] + 0.5) * self.tex - 0.5  # [B, 1, W]
        tv = ((ys - cy[:, :, None]) / side[:, :, None] + 0.5) * self.tex - 0.5
        ax = F.relu(1 - (tu.transpose(1, 2) - self.texel).abs())  # [B, W, T]
        ay = F.relu(1 - (tv.transpose(1, 2) - self.texel).abs())  # [B, H, T]
        drawn = torch.matmul(torch.matmul(ay[:, None], tex), ax.transpose(1, 2)[:, None])  # [B, 4, H, W]
        return drawn[:, :3] + (1 - drawn[:, 3:4]) * bg
