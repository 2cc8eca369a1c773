"""Evaluate the demo model from pixels.

    /usr/bin/python3 tools/demo-model/evaluate.py [--quick] [--grid] [--tune]

Renders prompts for the held-out (shape, colour, background) combinations (heldout.json,
never seen in training) and for a sample of training combinations, with the contract's
DDIM maths (sampling.py; steps and guidance = the manifest defaults), at 256x256, 512x512
and 384x256, and scores each image:
  * background colour: the most common palette colour (nearest of the 10 training colours)
  * shape colour: the most common palette colour among pixels far from the background
    (at least 0.4 % of the image, else "missing")
  * position: the centroid of the shape-coloured pixels falls in the prompt's 3x3 cell.
The scorer itself is checked on ground-truth renders (must give 100 %).
Results go to eval_results.json; --grid also writes samples.png.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads crawl on busy cores
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dataset as ds  # noqa: E402
from sampling import Model  # noqa: E402

torch.set_num_threads(2)
PALETTE = np.array([ds.COLOURS[c] for c in ds.COLOUR_NAMES], dtype=np.float32)


def score(img, scene):
    px = img.reshape(-1, 3).astype(np.float32)
    d = ((px[:, None, :] - PALETTE[None]) ** 2).sum(-1)
    cls = d.argmin(1)
    counts = np.bincount(cls, minlength=len(PALETTE))
    bg = counts.argmax()
    bg_mean = px[cls == bg].mean(0)
    fg = ((px - bg_mean) ** 2).sum(1) > 60.0 ** 2
    res = {"background": ds.COLOUR_NAMES[bg] == scene.background, "colour": False, "position": False,
           "pred_bg": ds.COLOUR_NAMES[bg], "pred_colour": None, "pred_cell": None}
    if fg.sum() < 0.004 * len(px):
        return res
    fcounts = np.bincount(cls[fg], minlength=len(PALETTE))
    fcounts[bg] = 0
    if fcounts.max() == 0:
        return res
    sc = fcounts.argmax()
    res["pred_colour"] = ds.COLOUR_NAMES[sc]
    res["colour"] = ds.COLOUR_NAMES[sc] == scene.colour
    H, W = img.shape[:2]
    m = (fg & (cls == sc)).reshape(H, W)
    ys, xs = np.nonzero(m)
    cx, cy = xs.mean() / W, ys.mean() / H
    cell = (min(2, int(cx * 3)), min(2, int(cy * 3)))
    res["pred_cell"] = cell
    res["position"] = cell == ds.POS_GRID[scene.position]
    return res


def cases(combos, n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        sh, co, bg = combos[i % len(combos)]
        sc = ds.Scene(sh, co, bg, rng.choice(ds.SIZES), rng.choice(ds.POSITIONS))
        out.append((sc, ds.prompt(sc, rng, full=True), rng.randrange(2 ** 31)))
    return out


def run(model, items, w, h, steps, guidance, keep=0):
    tot = {"colour": 0, "background": 0, "position": 0, "all": 0}
    imgs, rows = [], []
    for sc, p, seed in items:
        img = model.sample(p, w, h, steps=steps, guidance=guidance, seed=seed)
        r = score(img, sc)
        for k in ("colour", "background", "position"):
            tot[k] += r[k]
        tot["all"] += r["colour"] and r["background"] and r["position"]
        rows.append({"prompt": p, "size": sc.size, **{k: (v if not isinstance(v, (np.bool_,)) else bool(v))
                                                         for k, v in r.items()}})
        if len(imgs) < keep:
            imgs.append((img, p))
    n = len(items)
    return {k: round(100.0 * v / n, 1) for k, v in tot.items()} | {"n": n}, rows, imgs


def grid(samples, path, cols=4, cell=256):
    rows = (len(samples) + cols - 1) // cols
    cap = 34
    canvas = Image.new("RGB", (cols * cell, rows * (cell + cap)), (255, 255, 255))
    d = ImageDraw.Draw(canvas)
    for i, (img, p) in enumerate(samples):
        x, y = (i % cols) * cell, (i // cols) * (cell + cap)
        im = Image.fromarray(img)
        im.thumbnail((cell, cell))
        canvas.paste(im, (x + (cell - im.width) // 2, y))
        words, lines, cur = p.split(), [], ""
        for wd in words:
            if len(cur) + len(wd) + 1 > 42:
                lines.append(cur)
                cur = wd
            else:
                cur = (cur + " " + wd).strip()
        lines.append(cur)
        for j, ln in enumerate(lines[:3]):
            d.text((x + 3, y + cell + 1 + 11 * j), ln, fill=(0, 0, 0))
    canvas.save(path)


def tune(model, train_combos):
    """The manifest's default guidance and steps are chosen here, on training combinations
    only, so the held-out scores stay an honest test."""
    items = cases(train_combos, 48, 3)
    table = []
    for steps, guidance in [(12, 1.5), (12, 2.0), (12, 3.0), (12, 4.0), (12, 5.0), (8, 3.0), (20, 3.0)]:
        acc, _, _ = run(model, items, 256, 256, steps, guidance)
        table.append({"steps": steps, "guidance": guidance, **acc})
        print(table[-1], flush=True)
    with open(os.path.join(HERE, "tune_results.json"), "w") as f:
        json.dump({"step": model.step, "runs": table}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "ckpt", "unet_ema.pt"))
    ap.add_argument("--ae", default=os.path.join(HERE, "ae.pt"))
    ap.add_argument("--quick", action="store_true", help="256x256 held-out only")
    ap.add_argument("--grid", action="store_true")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--n", type=int, default=72, help="images per held-out 256x256 run")
    ap.add_argument("--out", default=os.path.join(HERE, "eval_results.json"))
    ap.add_argument("--tune", action="store_true",
                    help="sweep guidance x steps on training combinations (never held-out ones)")
    args = ap.parse_args()
    man_path = os.path.join(HERE, "..", "..", "static", "models", "demo", "manifest.json")
    steps, guidance = 8, 5.0
    if os.path.exists(man_path):
        man = json.load(open(man_path))
        steps, guidance = man["steps"]["default"], man["guidance"]["default"]
    steps = args.steps or steps
    guidance = args.guidance or guidance

    held = ds.load_heldout()
    hs = set(held)
    train_combos = [(s, c, b) for s in ds.SHAPES for c in ds.COLOUR_NAMES for b in ds.COLOUR_NAMES
                    if b != c and (s, c, b) not in hs]
    random.Random(7).shuffle(train_combos)

    # scorer sanity check on ground truth
    gt = cases(held, 48, 99)
    ok = {k: 0 for k in ("colour", "background", "position")}
    for sc, _, _ in gt:
        for (w, h) in ((256, 256), (512, 512), (384, 256)):
            r = score(ds.render(sc, w, h), sc)
            for k in ok:
                ok[k] += r[k]
    gt_acc = {k: round(100.0 * v / (3 * len(gt)), 1) for k, v in ok.items()}
    print("scorer on ground truth:", gt_acc, flush=True)

    model = Model(args.ckpt, args.ae)
    if args.tune:
        tune(model, train_combos)
        return
    results = {"step": model.step, "train_minutes": round(model.seconds / 60, 1), "steps": steps,
               "guidance": guidance, "scorer_ground_truth": gt_acc, "runs": {}}
    plan = [("held-out 256x256", held, args.n, 256, 256)]
    if not args.quick:
        plan += [("training combos 256x256", train_combos, 48, 256, 256),
                 ("held-out 512x512", held, 24, 512, 512),
                 ("held-out 384x256", held, 48, 384, 256)]
    samples = []
    for name, combos, n, w, h in plan:
        t0 = time.time()
        acc, rows, imgs = run(model, cases(combos, n, 1), w, h, steps, guidance, keep=8 if "held" in name else 0)
        acc["seconds"] = round(time.time() - t0, 1)
        results["runs"][name] = acc
        results.setdefault("details", {})[name] = rows
        print(name, acc, flush=True)
        if w == h == 256:
            samples += imgs
        elif len(samples) < 16:
            samples += imgs[:4]
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    if args.grid:
        grid(samples[:16], os.path.join(HERE, "samples.png"))
        print("wrote samples.png")


if __name__ == "__main__":
    main()
