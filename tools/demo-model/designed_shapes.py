"""Shapes model v4: the demo model on a designed latent (tools/objects-model/designed.py)
instead of a learned autoencoder's — issue 17's fix for shapes that came out as blobs.

    /usr/bin/python3 tools/demo-model/designed_shapes.py decoder          # sprites (8 shape masks)
    /usr/bin/python3 tools/demo-model/designed_shapes.py unet --minutes 45
    /usr/bin/python3 tools/demo-model/evaluate.py --designed --grid
    /usr/bin/python3 tools/demo-model/export.py --designed && /usr/bin/python3 tools/demo-model/export_encoder.py --designed

The latent (16x down, 15 channels): background RGB, the shape's square coverage, the
shape's colour (RGB) times the coverage, and the shape's 8-number code times the coverage.
The decoder paints the chosen shape's mask in that colour.  The text encoder is the v2
model's (ckpt/text.pt, frozen); checkpoints go to v4/ (full.pt ignored)."""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import sys

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
import designed_train  # noqa: E402
from designed import SpriteDecoder, TextEncoder, UNet  # noqa: E402

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


class MeasuredEncoder(nn.Module):
    """Pixels -> designed latent, for variations, measured rather than learned (a learned one,
    6 minutes of training, kept 9 % of shapes on a round trip): the background is the mean of
    the image's outer ring; the shape is the pixels far from it; its square is their bounding
    box's centre and the box's longer side / 0.9 (most shapes span 2 of the square's 2.2
    radii); its colour is their mean; which shape it is: the decoder's mask, drawn into that
    square, that overlaps them best (the scorer's method).  Plain ops: onnxruntime runs it."""

    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, sample):
        x = sample
        d = float(self.dec.down)
        ones = torch.ones_like(x[:, :1])  # [B, 1, H, W]
        xs, ys = torch.cumsum(ones, dim=3) - 0.5, torch.cumsum(ones, dim=2) - 0.5
        W, H = xs[:, :, :1, -1:] + 0.5, ys[:, :, -1:, :1] + 0.5
        ring = ((xs < 3) | (ys < 3) | (xs > W - 3) | (ys > H - 3)).float()
        bg = (x * ring).sum(dim=(2, 3)) / ring.sum(dim=(2, 3))  # [B, 3]
        dist = ((x - bg[:, :, None, None]) ** 2).sum(dim=1, keepdim=True)
        fg = (dist > 0.47 ** 2).float()  # 60 of 255 levels, as the scorers count it
        n = fg.sum(dim=(2, 3)) + 1e-4
        big = 1e5
        x1, y1 = (xs * fg - big * (1 - fg)).amax(dim=(2, 3)), (ys * fg - big * (1 - fg)).amax(dim=(2, 3))
        x0, y0 = (xs * fg + big * (1 - fg)).amin(dim=(2, 3)), (ys * fg + big * (1 - fg)).amin(dim=(2, 3))
        side = F.relu(torch.maximum(x1 - x0, y1 - y0) + 1) / 0.9  # [B, 1] pixels
        cx, cy = (x0 + x1) * 0.5 + 0.5, (y0 + y1) * 0.5 + 0.5
        colour = (x * fg).sum(dim=(2, 3)) / n  # [B, 3]
        # each shape's mask drawn into that square, and its overlap with the pixels
        alpha = torch.sigmoid(self.dec.alpha)  # [8, 1, T, T]
        ax = self.dec.tents(xs[:, :, 0, :], cx, side)  # [B, W, T]
        ay = self.dec.tents(ys[:, :, :, 0], cy, side)  # [B, H, T]
        drawn = torch.matmul(torch.matmul(ay[:, None], alpha[None, :, 0]), ax.transpose(1, 2)[:, None])  # [B, 8, H, W]
        inter = (drawn * fg).sum(dim=(2, 3))
        iou = inter / (drawn.sum(dim=(2, 3)) + fg.sum(dim=(2, 3)) - inter + 1e-4)
        code = torch.softmax(iou * 50, dim=1) @ self.dec.codes  # [B, K]
        # the square's coverage of every latent cell
        cells = F.avg_pool2d(ones, int(d))
        cxs, cys = torch.cumsum(cells, dim=3) - 1, torch.cumsum(cells, dim=2) - 1  # cell index
        lo_x, hi_x = (cx - side / 2)[:, :, None, None] / d, (cx + side / 2)[:, :, None, None] / d
        lo_y, hi_y = (cy - side / 2)[:, :, None, None] / d, (cy + side / 2)[:, :, None, None] / d
        cov = ((torch.minimum(cxs + 1, hi_x) - torch.maximum(cxs, lo_x)).clamp(0, 1)
               * (torch.minimum(cys + 1, hi_y) - torch.maximum(cys, lo_y)).clamp(0, 1))
        cov = cov * (n > 4).float()[:, :, None, None]  # nothing stands out: no shape
        return torch.cat([bg[:, :, None, None] * cells, cov * 2 - 1, colour[:, :, None, None] * cov,
                          code[:, :, None, None] * cov], dim=1)


class Loaded(designed_train.Model):
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
    return MeasuredEncoder(load().dec).eval()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["decoder", "unet"])
    ap.add_argument("--minutes", type=float, default=45)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    if args.phase == "decoder":
        dec = new_decoder()
        designed_train.init_sprites(dec, masks(dec.tex))
        designed_train.train_decoder(dec, draw_scene, os.path.join(V4, "decoder.pt"), SEED + 2, steps=100)
    else:
        designed_train.train_unet(ShapesTask(), args.minutes, lr=args.lr)
