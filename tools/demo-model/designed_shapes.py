"""Shapes model v4: the demo model on a designed latent (tools/objects-model/designed.py)
instead of a learned autoencoder's — issue 17's fix for shapes that came out as blobs.

    /usr/bin/python3 tools/demo-model/designed_shapes.py decoder          # sprites (8 shape masks)
    /usr/bin/python3 tools/demo-model/designed_shapes.py unet --minutes 45
    /usr/bin/python3 tools/demo-model/designed_shapes.py encoder          # for variations
    /usr/bin/python3 tools/demo-model/evaluate.py --designed --grid
    /usr/bin/python3 tools/demo-model/export.py --designed && /usr/bin/python3 tools/demo-model/export_encoder.py --designed

The latent (16x down, 15 channels): background RGB, the shape's square coverage, the
shape's colour (RGB) times the coverage, and the shape's 8-number code times the coverage.
The decoder paints the chosen shape's mask in that colour.  The text encoder is the v2
model's (ckpt/text.pt, frozen); checkpoints go to v4/ (full.pt ignored)."""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "objects-model"))
import dataset as ds  # noqa: E402
import designed  # noqa: E402
from designed import SpriteDecoder, TextEncoder, UNet, log, save  # noqa: E402

SEED = 20261128
V4 = os.path.join(HERE, "v4")
CODES = designed.far_codes(len(ds.SHAPES), 8, seed=3)
CHANNELS = 4 + 3 + CODES.shape[1]
UNET_CH = (48, 96, 128)
SQUARE = 2.2  # the shape's square side in radii (the star reaches 1.05 r)
torch.set_num_threads(2)


def colour(name):
    return np.array(ds.COLOURS[name], np.float32) / 127.5 - 1


def latent(scene, w, h):
    cx, cy, r = ds.shape_centre_radius(scene, w, h)
    bg = colour(scene.background)
    return designed.write_latent(w, h, bg, bg, (cx, cy, SQUARE * r), CODES[ds.SHAPES.index(scene.shape)],
                                 tint=colour(scene.colour))


def masks(tex, supersample=4):
    """Each shape's antialiased mask, drawn as dataset.py draws it, filling its square."""
    n = tex * supersample
    out = []
    for s in ds.SHAPES:
        m = ds.shape_mask(s, n / 2, n / 2, n / SQUARE, n, n).astype(np.float32)
        a = np.asarray(Image.fromarray((m * 255).astype(np.uint8)).resize((tex, tex), Image.BOX), np.float32) / 255
        out.append(np.dstack([np.ones((tex, tex, 3), np.float32), a]))
    return out


def draw_scene(rng, w, h):
    s = ds.Scene.random(rng)
    return ds.render(s, w, h), latent(s, w, h)


def new_decoder():
    return SpriteDecoder(torch.from_numpy(CODES), tint=True, halves=False)  # shapes: one plain background


class ShapesTask:
    ckpt_dir, seed, channels, unet_ch, max_len = V4, SEED, CHANNELS, UNET_CH, ds.MAX_LEN

    def __init__(self):
        self.text = torch.load(os.path.join(HERE, "ckpt", "text.pt"))
        self.vidx = {w: i for i, w in enumerate(self.text["vocab"])}
        self.held = set(ds.load_heldout())

    def text_encoder(self):
        te = TextEncoder(len(self.text["vocab"]))
        te.load_state_dict(self.text["te"])
        return te

    def tokenize(self, text):
        return ds.tokenize(text, self.vidx)

    def draw(self, rng, w, h):
        s = ds.Scene.random(rng, exclude=self.held)
        return latent(s, w, h), ds.prompt(s, rng)


class Encoder(nn.Module):
    """Pixels -> designed latent, for variations: 16x16 patches, then 3x3 context (a patch
    alone cannot tell a star's tip from a triangle's)."""

    def __init__(self, channels=CHANNELS, down=designed.DOWN):
        super().__init__()
        self.net = nn.Sequential(
            nn.PixelUnshuffle(down), nn.Conv2d(3 * down * down, 128, 1), nn.SiLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.SiLU(), nn.Conv2d(128, 128, 3, padding=1), nn.SiLU(),
            nn.Conv2d(128, channels, 3, padding=1))

    def forward(self, sample):
        return self.net(sample)


def train_encoder(steps=800, batch=16, lr=2e-3):
    """Regression onto the scenes' latents plus the frozen decoder's reconstruction: on the
    regression alone (600 steps) a round trip kept 15 % of shapes and 33 % of colours, as the
    decoder divides codes and colours by a coverage the encoder smeared."""
    rng = random.Random(SEED + 5)
    torch.manual_seed(SEED + 5)
    enc = Encoder()
    dec = new_decoder()
    dec.load_state_dict(torch.load(os.path.join(V4, "decoder.pt"))["decoder"])
    dec.requires_grad_(False)
    opt = torch.optim.AdamW(enc.parameters(), lr, weight_decay=0.01)
    t0 = time.time()
    for step in range(steps):
        w, h = rng.choices(designed.SIZES, designed.SIZE_P)[0]
        pairs = [draw_scene(rng, w, h) for _ in range(batch)]
        x = torch.stack([designed.to_tensor(img) for img, _ in pairs])
        z = torch.stack([torch.from_numpy(lat) for _, lat in pairs])
        zh = enc(x)
        loss = F.mse_loss(zh, z) + 4 * F.mse_loss(dec(zh), x)
        opt.zero_grad()
        loss.backward()
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / steps))
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"encoder step {step} loss {loss.item():.5f} {time.time() - t0:.0f}s")
    save({"encoder": enc.state_dict(), "steps": steps, "seconds": time.time() - t0}, os.path.join(V4, "encoder.pt"))


class Loaded(designed.Model):
    """What evaluate.py and export.py use of a model (the v2 sampler's interface)."""
    down, scale = designed.DOWN, 1.0

    def sample(self, prompt, width, height, steps=12, guidance=3.0, seed=0, noise=None, negative=""):
        return self.sample_batch([prompt], width, height, steps, guidance, seeds=[seed], noise=noise)[0]


def load(unet_path=os.path.join(V4, "unet_ema.pt")):
    task = ShapesTask()
    ck = torch.load(unet_path)
    unet = UNet(ch=tuple(ck["ch"]), patch=1, channels=CHANNELS)
    unet.load_state_dict(ck["ema_unet"])
    dec = new_decoder()
    dec.load_state_dict(torch.load(os.path.join(V4, "decoder.pt"))["decoder"])
    m = Loaded(task.text_encoder(), unet, dec, task.tokenize, CHANNELS)
    m.vocab, m.vidx, m.step, m.seconds = task.text["vocab"], task.vidx, ck["step"], ck["seconds"]
    return m


def load_encoder():
    enc = Encoder()
    enc.load_state_dict(torch.load(os.path.join(V4, "encoder.pt"))["encoder"])
    return enc.eval()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["decoder", "unet", "encoder"])
    ap.add_argument("--minutes", type=float, default=45)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    if args.phase == "decoder":
        dec = new_decoder()
        designed.init_sprites(dec, masks(dec.tex))
        designed.train_decoder(dec, draw_scene, os.path.join(V4, "decoder.pt"), SEED + 2, steps=100)
    elif args.phase == "unet":
        designed.train_unet(ShapesTask(), args.minutes, lr=args.lr)
    else:
        train_encoder()
