"""The objects model in torch (designed_train.Model), from its committed checkpoints."""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenes as sc  # noqa: E402
import designed_train  # noqa: E402
from designed import SpriteDecoder, TextEncoder, UNet  # noqa: E402

CKPT = os.path.join(HERE, "ckpt")


def load(unet_path=os.path.join(CKPT, "unet_ema.pt")):
    text = torch.load(os.path.join(CKPT, "text.pt"))
    vocab = text["vocab"]
    vidx = {w: i for i, w in enumerate(vocab)}
    te = TextEncoder(len(vocab))
    te.load_state_dict(text["te"])
    ck = torch.load(unet_path)
    unet = UNet(ch=tuple(ck["ch"]), patch=1, channels=sc.CHANNELS)
    unet.load_state_dict(ck["ema_unet"])
    dec = SpriteDecoder(torch.from_numpy(sc.CODES))
    dec.load_state_dict(torch.load(os.path.join(CKPT, "decoder.pt"))["decoder"])
    m = designed_train.Model(te, unet, dec, lambda t: sc.tokenize(t, vidx), sc.CHANNELS)
    m.vocab, m.step, m.seconds = vocab, ck["step"], ck["seconds"]
    return m
