"""The objects model in torch, sampled exactly as docs/model-format.md says (the shapes
model's DDIM step and timesteps, tools/demo-model/sampling.py)."""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenes as sc  # noqa: E402
from nets import SpriteDecoder, TextEncoder, UNet  # noqa: E402
from sampling import ddim_step, timesteps  # noqa: E402  (tools/demo-model, on the path via scenes)

CKPT = os.path.join(HERE, "ckpt")


class Model:
    def __init__(self, unet_path=os.path.join(CKPT, "unet_ema.pt")):
        text = torch.load(os.path.join(CKPT, "text.pt"))
        self.vocab = text["vocab"]
        self.vidx = {w: i for i, w in enumerate(self.vocab)}
        self.te = TextEncoder(len(self.vocab))
        self.te.load_state_dict(text["te"])
        ck = torch.load(unet_path)
        self.step, self.seconds = ck["step"], ck["seconds"]
        self.unet = UNet(ch=tuple(ck["ch"]), patch=1, channels=sc.CHANNELS)
        self.unet.load_state_dict(ck["ema_unet"])
        self.dec = SpriteDecoder(torch.from_numpy(sc.CODES))
        self.dec.load_state_dict(torch.load(os.path.join(CKPT, "decoder.pt"))["decoder"])
        for m in (self.te, self.unet, self.dec):
            m.eval()

    @torch.no_grad()
    def latents(self, prompts, width, height, steps, guidance, seeds=None, noise=None):
        """Final latents of a batch of prompts (row i: prompts[i] with seeds[i])."""
        n = len(prompts)
        if noise is None:
            noise = torch.cat([torch.randn(1, sc.CHANNELS, height // sc.DOWN, width // sc.DOWN,
                                           generator=torch.Generator().manual_seed(s)) for s in seeds])
        x = noise.clone()
        ids = torch.tensor([sc.tokenize(p, self.vidx) for p in [""] + list(prompts)], dtype=torch.int32)
        ctx = self.te(ids)
        ctx = torch.cat([ctx[:1].expand(n, -1, -1), ctx[1:]])
        ts = timesteps(steps)
        for i, t in enumerate(ts):
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            out = self.unet(x.repeat(2, 1, 1, 1), torch.full((2 * n,), t, dtype=torch.int64), ctx)
            out = out[:n] + guidance * (out[n:] - out[:n])
            x = ddim_step(x, out, t, t_prev)
        return x

    @torch.no_grad()
    def sample(self, prompts, width, height, steps=12, guidance=3.0, seeds=None, noise=None):
        x = self.latents(prompts, width, height, steps, guidance, seeds, noise)
        img = ((self.dec(x) + 1) / 2).clamp(0, 1)
        return (img.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
