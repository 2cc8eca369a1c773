"""Export the demo model to ONNX (opset 17) exactly per docs/model-format.md.

    /usr/bin/python3 tools/demo-model/export.py [--ckpt tools/demo-model/ckpt/unet_ema.pt]

Writes static/models/demo/{text_encoder.onnx, unet.onnx, vae_decoder.onnx, tokenizer.json,
manifest.json} and, for check_onnx.mjs, a torch reference render in reference/.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads crawl on busy cores
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dataset as ds  # noqa: E402
from sampling import Model  # noqa: E402
from train_common import SCHEDULER, SIZES, manifest_io  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "static", "models", "demo")
REF = os.path.join(HERE, "reference")
torch.set_num_threads(2)

STEPS = {"standard": [4, 12], "high": [13, 30], "default": 12}
GUIDANCE = {"min": 1, "max": 12, "default": 5}
EXAMPLES = ["a red circle on a blue background", "a small yellow star in the top left corner, green background",
            "blue backdrop with a big orange heart on the right", "a white ring on a black background",
            "a purple triangle at the bottom on a yellow background", "a green cross in the middle, pink background"]


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "ckpt", "unet_ema.pt"))
    ap.add_argument("--ae", default=os.path.join(HERE, "ae.pt"))
    ap.add_argument("--guidance-default", type=float, default=GUIDANCE["default"])
    ap.add_argument("--steps-default", type=int, default=STEPS["default"])
    ap.add_argument("--out", default=OUT, help="model folder (default static/models/demo)")
    ap.add_argument("--ref", default=REF, help="torch reference folder for check_onnx.mjs")
    ap.add_argument("--designed", action="store_true", help="the v4 model on the designed latent (designed_shapes.py)")
    args = ap.parse_args()
    export(args, args.out, args.ref)


def export(args, OUT, REF):
    if args.designed:
        import designed_shapes
        m = designed_shapes.load()
    else:
        m = Model(args.ckpt, args.ae)
    os.makedirs(OUT, exist_ok=True)
    T, D, C = ds.MAX_LEN, m.te.ln.normalized_shape[0], getattr(m, "channels", 4)

    ids = torch.zeros(1, T, dtype=torch.int32)
    torch.onnx.export(m.te, (ids,), os.path.join(OUT, "text_encoder.onnx"), opset_version=17,
                      input_names=["input_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})
    sample = torch.randn(2, C, 256 // m.down, 320 // m.down)
    tstep = torch.tensor([500, 500], dtype=torch.int64)
    ehs = torch.randn(2, T, D)
    torch.onnx.export(m.unet, (sample, tstep, ehs), os.path.join(OUT, "unet.onnx"), opset_version=17,
                      input_names=["sample", "timestep", "encoder_hidden_states"],
                      output_names=["out_sample"],
                      dynamic_axes={"sample": {0: "batch", 2: "h", 3: "w"}, "timestep": {0: "batch"},
                                    "encoder_hidden_states": {0: "batch"},
                                    "out_sample": {0: "batch", 2: "h", 3: "w"}})
    torch.onnx.export(m.dec, (torch.randn(1, C, 256 // m.down, 320 // m.down),), os.path.join(OUT, "vae_decoder.onnx"),
                      opset_version=17, input_names=["latent_sample"], output_names=["sample"],
                      dynamic_axes={"latent_sample": {2: "h", 3: "w"}, "sample": {2: "H", 3: "W"}})
    for f in ("text_encoder.onnx", "unet.onnx", "vae_decoder.onnx"):
        onnx.checker.check_model(onnx.load(os.path.join(OUT, f)))

    with open(os.path.join(OUT, "tokenizer.json"), "w") as f:
        json.dump(ds.tokenizer_json(m.vocab), f, indent=1)

    files = {}
    for key, name in (("textEncoder", "text_encoder.onnx"), ("unet", "unet.onnx"),
                      ("vaeDecoder", "vae_decoder.onnx"), ("tokenizer", "tokenizer.json")):
        p = os.path.join(OUT, name)
        files[key] = {"url": name, "sha256": sha(p), "bytes": os.path.getsize(p)}
    manifest = {
        "id": "demo",
        "name": "Archipelago Shapes (demo)",
        "version": "1",
        "description": ("Small text-to-image latent diffusion model trained on CPU on procedural "
                        "scenes: one shape (circle, square, triangle, star, heart, diamond, cross, "
                        "ring) in one of 10 colours on a plain background, small or large, in a 3x3 "
                        "position grid. Try: 'a red circle on a blue background', "
                        "'a small yellow star in the top left corner, green background'."),
        "costWeight": 1,
        "examples": EXAMPLES,
        "files": files,
        "io": manifest_io(T, D, C),
        "tokenizer": {"maxLength": T, "padId": 0, "bosId": None, "eosId": None},
        "latent": {"channels": C, "downscale": m.down, "scale": round(float(m.scale), 6)},
        "scheduler": SCHEDULER,
        "sizes": SIZES,
        "steps": dict(STEPS, default=args.steps_default),
        "guidance": dict(GUIDANCE, default=args.guidance_default),
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    total = sum(v["bytes"] for v in files.values())
    print("exported", {k: v["bytes"] for k, v in files.items()}, "total", total,
          f"(step {m.step}, {m.seconds / 60:.1f} min)")

    # torch reference render for check_onnx.mjs (same noise, same maths)
    os.makedirs(REF, exist_ok=True)
    refs = []
    for i, (prompt, w, h) in enumerate([("a red circle on a blue background", 256, 256),
                                        ("a small yellow star in the top left corner, green background", 320, 256)]):
        g = torch.Generator().manual_seed(1000 + i)
        noise = torch.randn(1, C, h // m.down, w // m.down, generator=g)
        img = m.sample(prompt, w, h, steps=args.steps_default, guidance=args.guidance_default, noise=noise)
        noise.numpy().astype("<f4").tofile(os.path.join(REF, f"noise{i}.bin"))
        img.astype(np.uint8).tofile(os.path.join(REF, f"image{i}.rgb"))
        refs.append({"prompt": prompt, "width": w, "height": h, "noise": f"noise{i}.bin",
                     "image": f"image{i}.rgb",
                     "ids": ds.tokenize(prompt, m.vidx)})
    with open(os.path.join(REF, "ref.json"), "w") as f:
        json.dump({"steps": args.steps_default, "guidance": args.guidance_default, "refs": refs}, f)


if __name__ == "__main__":
    main()
