"""Reference sampler in torch, written to follow docs/model-format.md step by step
(DDIM, eta 0, leading spacing t_i = floor(i * 1000 / steps) reversed + stepsOffset,
v-prediction, classifier-free guidance with row 0 = unconditional, row 1 = prompt,
decode latents / scale, image = (sample + 1) / 2 clamped)."""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dataset as ds  # noqa: E402
from models import Decoder, TextEncoder, UNet, alphas_cumprod_cosine  # noqa: E402

ACP = alphas_cumprod_cosine().double()
STEPS_OFFSET = 1


def timesteps(steps, T=1000, offset=STEPS_OFFSET):
    return [(i * T) // steps + offset for i in range(steps)][::-1]


def ddim_step(x, model_out, t, t_prev):
    a_t = ACP[t].item()
    a_prev = ACP[t_prev].item() if t_prev >= 0 else 1.0
    x0 = a_t ** 0.5 * x - (1 - a_t) ** 0.5 * model_out
    eps = a_t ** 0.5 * model_out + (1 - a_t) ** 0.5 * x
    return a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps


class Model:
    def __init__(self, ckpt_path, ae_path):
        ck = torch.load(ckpt_path)
        self.vocab = ck["vocab"]
        self.vidx = {w: i for i, w in enumerate(self.vocab)}
        self.scale = ck["scale"]
        self.step = ck["step"]
        self.seconds = ck["seconds"]
        self.te = TextEncoder(len(self.vocab))
        self.te.load_state_dict(ck["ema_te"])
        ae = torch.load(ae_path)
        self.down = ae.get("down", 8)  # model v2's autoencoder (8x) has no "down"
        assert ck.get("down", 8) == self.down, "UNet checkpoint and autoencoder differ in latent downscale"
        self.unet = UNet(patch=8 // self.down)
        self.unet.load_state_dict(ck["ema_unet"])
        self.dec = Decoder(self.down)
        self.dec.load_state_dict(ae["decoder"])
        for m in (self.te, self.unet, self.dec):
            m.eval()

    @torch.no_grad()
    def encode_text(self, texts):
        ids = torch.tensor([ds.tokenize(t, self.vidx) for t in texts], dtype=torch.int32)
        return self.te(ids)

    @torch.no_grad()
    def sample(self, prompt, width, height, steps=8, guidance=5.0, seed=0, noise=None,
               negative=""):
        if noise is None:
            g = torch.Generator().manual_seed(seed)
            noise = torch.randn(1, 4, height // self.down, width // self.down, generator=g)
        x = noise.clone()
        ctx = self.encode_text([negative, prompt])
        ts = timesteps(steps)
        for i, t in enumerate(ts):
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            if guidance > 1:
                out = self.unet(x.repeat(2, 1, 1, 1), torch.tensor([t, t]), ctx)
                out = out[0:1] + guidance * (out[1:2] - out[0:1])
            else:
                out = self.unet(x, torch.tensor([t]), ctx[1:2])
            x = ddim_step(x, out, t, t_prev)
        img = self.dec(x / self.scale)
        img = ((img + 1) / 2).clamp(0, 1)
        return (img[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
