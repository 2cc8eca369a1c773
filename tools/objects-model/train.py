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
import random
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenes as sc  # noqa: E402
import designed_train  # noqa: E402
from designed import SpriteDecoder, TextEncoder, TextHeads, log, save  # noqa: E402
from train_common import pretrain_text  # noqa: E402  (tools/demo-model)

SEED = 20261127
CKPT = os.path.join(HERE, "ckpt")
UNET_CH = (48, 96, 128)
torch.set_num_threads(2)


def vocab_index():
    vocab = sc.vocabulary()
    return vocab, {w: i for i, w in enumerate(vocab)}


def ckpt(name):
    return os.path.join(CKPT, name)


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

    acc = pretrain_text(te, heads, batch_of, held, steps, batch, lr, log)
    acc = dict(zip(sc.LABEL_HEADS, [round(a, 4) for a in acc]))
    log("held-out accuracy", acc)
    save({"te": te.state_dict(), "vocab": vocab, "steps": steps, "seconds": time.time() - t0,
          "heldout_accuracy": acc}, ckpt("text.pt"))


# ------------------------------------------------------------------ 2. decoder sprites, 3. UNet
def sprite_pictures(tex):
    return [np.asarray(sc.sprite(thing, tex), np.float32) / 255 for thing in sc.ICONS]


def draw_scene(rng, w, h):
    s = sc.Scene.random(rng, two_colour=0.3)
    return sc.render(s, w, h), sc.latent(s, w, h)


def train_decoder():
    """The sprites, fine-tuned on rendered scenes (the target is the resvg rendering composed
    by scenes.render; the decoder draws from the designed latent)."""
    dec = SpriteDecoder(torch.from_numpy(sc.CODES))
    designed_train.init_sprites(dec, sprite_pictures(dec.tex))
    designed_train.train_decoder(dec, draw_scene, ckpt("decoder.pt"), SEED + 2)


class ObjectsTask:
    ckpt_dir, seed, channels, unet_ch, max_len = CKPT, SEED, sc.CHANNELS, UNET_CH, sc.MAX_LEN

    def __init__(self):
        self.vocab, self.vidx = vocab_index()
        self.held = sc.load_heldout()

    def text_encoder(self):
        te = TextEncoder(len(self.vocab))
        te.load_state_dict(torch.load(ckpt("text.pt"))["te"])
        return te

    def tokenize(self, text):
        return sc.tokenize(text, self.vidx)

    def draw(self, rng, w, h):
        s = sc.Scene.random(rng, exclude=self.held, two_colour=0.2)
        return sc.latent(s, w, h), sc.prompt_with_labels(s, rng)[0]


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
        designed_train.train_unet(ObjectsTask(), args.minutes, lr=args.lr)
