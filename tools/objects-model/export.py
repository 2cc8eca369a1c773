"""Export the objects model to ONNX (opset 17) per docs/model-format.md.

    /usr/bin/python3 tools/objects-model/export.py [--guidance-default 3]

Writes static/models/objects/{text_encoder.onnx, unet.onnx, vae_decoder.onnx,
tokenizer.json, manifest.json} and, for tools/demo-model/check_onnx.mjs
(DEMO_DIR=static/models/objects DEMO_REF=tools/objects-model/reference), a torch reference
render.  No vae_encoder: the latent is designed, so there is no encoder to export, and the
model makes no variations."""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import hashlib
import json
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenes as sc  # noqa: E402
from sample import load  # noqa: E402
from train_common import SCHEDULER, SIZES, manifest_io  # noqa: E402  (tools/demo-model)

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "static", "models", "objects")
REF = os.path.join(HERE, "reference")
STEPS = {"standard": [4, 12], "high": [13, 30], "default": 12}
EXAMPLES = ["a red apple on a blue background", "a cat", "a big rocket in the top left corner on a yellow background",
            "a small dog on a green background", "a sunflower in the center on a purple background",
            "a car on the right, white background", "an owl on a pink and cyan background"]
torch.set_num_threads(2)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(guidance, out_dir=OUT, ref_dir=REF):
    m = load()
    os.makedirs(out_dir, exist_ok=True)
    T, D, C = sc.MAX_LEN, m.te.ln.normalized_shape[0], sc.CHANNELS
    path = lambda name: os.path.join(out_dir, name)  # noqa: E731
    torch.onnx.export(m.te, (torch.zeros(1, T, dtype=torch.int32),), path("text_encoder.onnx"), opset_version=17,
                      input_names=["input_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})
    torch.onnx.export(m.unet, (torch.randn(2, C, 16, 20), torch.tensor([500, 500]), torch.randn(2, T, D)),
                      path("unet.onnx"), opset_version=17,
                      input_names=["sample", "timestep", "encoder_hidden_states"], output_names=["out_sample"],
                      dynamic_axes={"sample": {0: "batch", 2: "h", 3: "w"}, "timestep": {0: "batch"},
                                    "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch", 2: "h", 3: "w"}})
    torch.onnx.export(m.dec, (torch.randn(1, C, 16, 20),), path("vae_decoder.onnx"), opset_version=17,
                      input_names=["latent_sample"], output_names=["sample"],
                      dynamic_axes={"latent_sample": {2: "h", 3: "w"}, "sample": {2: "H", 3: "W"}})
    for f in ("text_encoder.onnx", "unet.onnx", "vae_decoder.onnx"):
        onnx.checker.check_model(onnx.load(path(f)))
    with open(path("tokenizer.json"), "w") as f:
        json.dump(sc.tokenizer_json(m.vocab), f, indent=1)
    files = {key: {"url": name, "sha256": sha(path(name)), "bytes": os.path.getsize(path(name))}
             for key, name in (("textEncoder", "text_encoder.onnx"), ("unet", "unet.onnx"),
                               ("vaeDecoder", "vae_decoder.onnx"), ("tokenizer", "tokenizer.json"))}
    manifest = {
        "id": "objects",
        "name": "Archipelago Objects",
        "version": "1",
        "description": (f"Small text-to-image latent diffusion model trained on CPU on {len(sc.ICONS)} everyday things "
                        "(animals, food, vehicles, plants, objects; pictures from Microsoft's Fluent Emoji, MIT) "
                        "on a plain or two-colour background, small or large, in a 3x3 position grid. "
                        "Try: 'a red apple on a blue background', 'a big rocket in the top left corner on a yellow background'."),
        "costWeight": 1,
        "examples": EXAMPLES,
        "files": files,
        "io": manifest_io(T, D, C),
        "tokenizer": {"maxLength": T, "padId": 0, "bosId": None, "eosId": None},
        "latent": {"channels": C, "downscale": sc.DOWN, "scale": 1.0},
        "scheduler": SCHEDULER,
        "sizes": SIZES,
        "steps": STEPS,
        "guidance": {"min": 1, "max": 12, "default": guidance},
    }
    with open(path("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("exported", {k: v["bytes"] for k, v in files.items()}, f"(UNet step {m.step}, {m.seconds / 60:.1f} min)")

    os.makedirs(ref_dir, exist_ok=True)
    refs = []
    for i, (prompt, w, h) in enumerate([("a red apple on a blue background", 256, 256),
                                        ("a big rocket in the top left corner on a yellow background", 320, 256)]):
        noise = torch.randn(1, C, h // sc.DOWN, w // sc.DOWN, generator=torch.Generator().manual_seed(1000 + i))
        img = m.sample_batch([prompt], w, h, STEPS["default"], guidance, noise=noise)[0]
        noise.numpy().astype("<f4").tofile(os.path.join(ref_dir, f"noise{i}.bin"))
        img.astype(np.uint8).tofile(os.path.join(ref_dir, f"image{i}.rgb"))
        refs.append({"prompt": prompt, "width": w, "height": h, "noise": f"noise{i}.bin", "image": f"image{i}.rgb",
                     "ids": m.tokenize(prompt)})
    with open(os.path.join(ref_dir, "ref.json"), "w") as f:
        json.dump({"steps": STEPS["default"], "guidance": guidance, "refs": refs}, f)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--guidance-default", type=float, default=3.0)
    export(ap.parse_args().guidance_default)
