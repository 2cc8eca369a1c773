"""Export the demo model's VAE encoder (for variations, img2img) and add it to the manifest.

    /usr/bin/python3 tools/demo-model/export_encoder.py [--ae tools/demo-model/ae.pt]

Run after export.py (which rewrites manifest.json without it): writes
static/models/demo/vae_encoder.onnx and adds `files.vaeEncoder` and `io.vaeEncoder` to the
manifest already there, leaving everything else as export.py wrote it. The encoder must come
from the same ae.pt as the decoder, or a variation drifts from its input.

Contract (docs/model-format.md): `sample` float32 [1, 3, H, W] in [-1, 1] (the training
code's to_tensor) -> `latent_sample` float32 [1, 4, H/8, W/8], unscaled: the pipeline
multiplies by `latent.scale`, the inverse of what it divides by before decoding.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads crawl on busy cores
import argparse
import hashlib
import json
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dataset as ds  # noqa: E402
from models import Decoder, Encoder  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "static", "models", "demo")
torch.set_num_threads(1)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ae", default=os.path.join(HERE, "ae.pt"))
    ap.add_argument("--designed", action="store_true", help="v4: the encoder trained onto the designed latent")
    args = ap.parse_args()
    if args.designed:
        import designed_shapes
        enc, dec = designed_shapes.load_encoder(), designed_shapes.load().dec
        channels = designed_shapes.CHANNELS
    else:
        ae = torch.load(args.ae)
        # The layout the checkpoint was trained with (8x for the shipped ae.pt; see models.py).
        down = ae.get("down", 8)
        enc, dec = Encoder(down), Decoder(down)
        enc.load_state_dict(ae["encoder"])
        dec.load_state_dict(ae["decoder"])
        channels = 4
    enc.eval()
    dec.eval()

    path = os.path.join(OUT, "vae_encoder.onnx")
    torch.onnx.export(enc, (torch.zeros(1, 3, 256, 320),), path, opset_version=17,
                      input_names=["sample"], output_names=["latent_sample"],
                      dynamic_axes={"sample": {2: "H", 3: "W"}, "latent_sample": {2: "h", 3: "w"}})
    onnx.checker.check_model(onnx.load(path))

    # The round trip the variations rely on: a rendered scene, encoded and decoded, comes back.
    import random
    scene = ds.Scene.random(random.Random(7))
    img = ds.render(scene, 256, 256)
    x = torch.from_numpy(img.copy()).permute(2, 0, 1).float()[None] / 127.5 - 1.0
    with torch.no_grad():
        r = dec(enc(x))
    err = ((r.clamp(-1, 1) + 1) * 127.5 - (x + 1) * 127.5).abs().mean().item()
    print(f"round trip mean error {err:.2f} of 255 levels")
    assert err < 12, "encoder and decoder do not belong together"

    mpath = os.path.join(OUT, "manifest.json")
    with open(mpath) as f:
        manifest = json.load(f)
    manifest["files"]["vaeEncoder"] = {"url": "vae_encoder.onnx", "sha256": sha(path),
                                      "bytes": os.path.getsize(path)}
    manifest["io"]["vaeEncoder"] = {
        "inputs": {"sample": {"type": "float32", "shape": [1, 3, "H", "W"]}},
        "outputs": {"latent_sample": {"type": "float32", "shape": [1, channels, "h", "w"]}}}
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("exported", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
