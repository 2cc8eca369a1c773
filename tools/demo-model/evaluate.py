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
from shape_score import score  # noqa: E402

torch.set_num_threads(2)

# what a prompt says besides shape and colour: (size, position, background)
SAY = [(True, True, True), (False, True, True), (True, False, True), (True, True, False)]
SEEDS_PER_PROMPT = 4


def pick_combos(combos, n):
    """n combinations in a fixed order that cycles through every background colour and
    every shape (the confusion matrix needs them all)."""
    left = list(combos)
    out = []
    for i in range(n):
        bg, sh = ds.COLOUR_NAMES[i % len(ds.COLOUR_NAMES)], ds.SHAPES[i % len(ds.SHAPES)]
        pool = ([c for c in left if c[2] == bg and c[0] == sh] or [c for c in left if c[2] == bg]
                or [c for c in left if c[0] == sh] or left or list(combos))
        c = pool[0]
        if c in left:
            left.remove(c)
        out.append(c)
    return out


def cases(combos, n, seed, seeds=SEEDS_PER_PROMPT):
    """n prompts x `seeds` fixed seeds.  Prompt i uses phrasing template i % 6 and leaves out
    size, position or background by (i // 6) % 4 (SAY), as people type; what a prompt leaves
    out is drawn at random for the scene and not scored.  Seeds are a fixed function of the
    prompt index, never chosen after seeing images."""
    rng = random.Random(seed)
    out = []
    for i, (sh, co, bg) in enumerate(pick_combos(combos, n)):
        sc = ds.Scene(sh, co, bg, rng.choice(ds.SIZES), rng.choice(ds.POSITIONS))
        say = SAY[(i // ds.N_TEMPLATES) % len(SAY)]
        p, _ = ds.prompt_with_labels(sc, rng, template=i % ds.N_TEMPLATES, say=say)
        for k in range(seeds):
            out.append((sc, p, seed * 100003 + i * 17 + k, say))
    return out


KEYS = ("shape", "colour", "background", "position")


def run(model, items, w, h, steps, guidance, keep=0, keep_every=SEEDS_PER_PROMPT):
    """Scores: shape and colour on every image; background and position only on the images
    whose prompt says them; "all" = every attribute the prompt says is right."""
    tot = {k: 0 for k in KEYS} | {"all": 0}
    cnt = {k: 0 for k in KEYS} | {"all": 0}
    imgs, rows = [], []
    for j, (sc, p, seed, say) in enumerate(items):
        img = model.sample(p, w, h, steps=steps, guidance=guidance, seed=seed)
        r = score(img, sc)
        asked = {"shape": True, "colour": True, "background": say[2], "position": say[1]}
        ok = True
        for k in KEYS:
            if asked[k]:
                tot[k] += bool(r[k])
                cnt[k] += 1
                ok = ok and bool(r[k])
        tot["all"] += ok
        cnt["all"] += 1
        rows.append({"prompt": p, "seed": seed, "true_shape": sc.shape, "size": sc.size,
                     **{k: (bool(v) if isinstance(v, (np.bool_, bool)) else v) for k, v in r.items()}})
        if len(imgs) < keep and j % keep_every == 0:
            imgs.append((img, p))
    acc = {k: round(100.0 * tot[k] / max(1, cnt[k]), 1) for k in tot}
    return acc | {"n": len(items), "n_background": cnt["background"], "n_position": cnt["position"]}, rows, imgs


def confusion(rows):
    """rows of one run -> {true shape: {predicted shape or "none": count}}"""
    m = {s: {} for s in ds.SHAPES}
    for r in rows:
        p = r["pred_shape"] or "none"
        m[r["true_shape"]][p] = m[r["true_shape"]].get(p, 0) + 1
    return m


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


def tune(model, train_combos, guidances=(1.5, 2.0, 3.0, 4.0), steps=12, prompts=12):
    """The manifest's default guidance is chosen here by the shape score (then "all"), on
    training combinations only, so the held-out scores stay an honest test."""
    items = cases(train_combos, prompts, 3)
    table = []
    for guidance in guidances:
        t0 = time.time()
        acc, _, _ = run(model, items, 256, 256, steps, guidance)
        table.append({"steps": steps, "guidance": guidance, **acc, "seconds": round(time.time() - t0)})
        print(table[-1], flush=True)
    best = max(table, key=lambda r: (r["shape"], r["all"]))
    with open(os.path.join(HERE, "tune_results.json"), "w") as f:
        json.dump({"step": model.step, "chosen_by": "shape, then all", "best": best, "runs": table}, f, indent=1)
    print("best", best)


def scorer_check(n=64):
    """The scorer on ground-truth renders (must be ~100 %, shape >= 98 %), small shapes
    included, at three sizes."""
    rng = random.Random(99)
    ok = {k: 0 for k in KEYS}
    tot = 0
    for _ in range(n):
        sc = ds.Scene.random(rng)
        for (w, h) in ((256, 256), (512, 512), (384, 256)):
            r = score(ds.render(sc, w, h), sc)
            for k in ok:
                ok[k] += bool(r[k])
            tot += 1
    return {k: round(100.0 * v / tot, 1) for k, v in ok.items()} | {"n": tot}


def ae_check(ae_path, n=96):
    """The autoencoder's round trip of rendered scenes, scored like model output: what the
    UNet can reach at best."""
    from models import Decoder, Encoder
    ae = torch.load(ae_path)
    enc, dec = Encoder(ae.get("down", 8)), Decoder(ae.get("down", 8))
    enc.load_state_dict(ae["encoder"])
    dec.load_state_dict(ae["decoder"])
    rng = random.Random(98)
    out = {}
    for (w, h) in ((256, 256), (512, 512)):
        ok = {k: 0 for k in KEYS}
        small = [0, 0]
        for _ in range(n if w == 256 else n // 2):
            sc = ds.Scene.random(rng)
            x = torch.from_numpy(ds.render(sc, w, h).copy()).permute(2, 0, 1).float()[None] / 127.5 - 1
            with torch.no_grad():
                y = dec(enc(x))
            img = (((y[0] + 1) / 2).clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            r = score(img, sc)
            for k in ok:
                ok[k] += bool(r[k])
            if sc.size == "small":
                small[0] += bool(r["shape"])
                small[1] += 1
        m = n if w == 256 else n // 2
        out[f"{w}x{h}"] = {k: round(100.0 * v / m, 1) for k, v in ok.items()} | {
            "shape_small": round(100.0 * small[0] / max(1, small[1]), 1), "n": m}
    return out


def designed_check(v4, n=96):
    """The designed latent's round trips: scene -> its latent -> decoder (what the UNet aims
    at), and scene -> the variations' encoder -> decoder."""
    rng = random.Random(11)
    scenes = [ds.Scene.random(rng) for _ in range(n)]
    dec, enc = v4.load().dec, v4.load_encoder()
    out = {}
    for name, to_latent in (("designed latent", lambda s, img: torch.from_numpy(v4.latent(s, 256, 256))[None]),
                            ("encoder", lambda s, img: enc(torch.from_numpy(img.copy()).permute(2, 0, 1).float()[None] / 127.5 - 1))):
        rows = []
        for s in scenes:
            with torch.no_grad():
                img = ((dec(to_latent(s, ds.render(s, 256, 256))) + 1) * 127.5).clamp(0, 255)
            rows.append(score(img[0].permute(1, 2, 0).numpy().round().astype(np.uint8), s))
        out[name] = {k: round(100.0 * sum(bool(r[k]) for r in rows) / n, 1) for k in KEYS}
        small = [r for r, s in zip(rows, scenes) if s.size == "small"]
        out[name] |= {"shape_small": round(100.0 * sum(bool(r["shape"]) for r in small) / max(1, len(small)), 1), "n": n}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "ckpt", "unet_ema.pt"))
    ap.add_argument("--ae", default=os.path.join(HERE, "ae.pt"))
    ap.add_argument("--quick", action="store_true", help="256x256 held-out only")
    ap.add_argument("--grid", action="store_true")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--prompts", type=int, default=24, help="held-out prompts at 256x256 (x4 seeds)")
    ap.add_argument("--prompts512", type=int, default=12, help="held-out prompts at 512x512 (x4 seeds)")
    ap.add_argument("--out", default=os.path.join(HERE, "eval_results.json"))
    ap.add_argument("--tune", action="store_true",
                    help="choose guidance on training combinations by the shape score (never held-out ones)")
    ap.add_argument("--checks", action="store_true", help="only the scorer and autoencoder checks")
    ap.add_argument("--designed", action="store_true", help="the v4 model on the designed latent (designed_shapes.py)")
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

    gt_acc = scorer_check()
    print("scorer on ground truth:", gt_acc, flush=True)
    if args.designed:
        import designed_shapes
        ae_acc = designed_check(designed_shapes)
        args.out = args.out if args.out != os.path.join(HERE, "eval_results.json") else os.path.join(designed_shapes.V4, "eval_results.json")
        model = designed_shapes.load()
    else:
        ae_acc = ae_check(args.ae)
        model = Model(args.ckpt, args.ae)
    print("autoencoder round trip:", ae_acc, flush=True)
    if args.checks:
        return
    if args.tune:
        tune(model, train_combos, steps=steps)
        return
    results = {"step": model.step, "train_minutes": round(model.seconds / 60, 1), "steps": steps,
               "guidance": guidance, "seeds_per_prompt": SEEDS_PER_PROMPT, "scorer_ground_truth": gt_acc,
               "autoencoder_round_trip": ae_acc, "runs": {}, "confusion": {}}
    plan = [("held-out 256x256", held, args.prompts, 256, 256)]
    if not args.quick:
        plan += [("held-out 512x512", held, args.prompts512, 512, 512),
                 ("training combos 256x256", train_combos, 8, 256, 256),
                 ("held-out 384x256", held, 6, 384, 256)]
    samples = []
    for name, combos, n, w, h in plan:
        t0 = time.time()
        acc, rows, imgs = run(model, cases(combos, n, 1), w, h, steps, guidance, keep=8 if "held" in name else 0)
        acc["seconds"] = round(time.time() - t0, 1)
        results["runs"][name] = acc
        results["confusion"][name] = confusion(rows)
        results.setdefault("details", {})[name] = rows
        print(name, acc, flush=True)
        if w == h == 256:
            samples += imgs
        elif len(samples) < 16:
            samples += imgs[:4]
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    if args.grid:
        # every shape once (the first held-out combination of each, all said, seed 1), then the
        # evaluation's own first images at other sizes
        firsts = [next(c for c in held if c[0] == s) for s in ds.SHAPES]
        shown = []
        for i, (sh, co, bg) in enumerate(firsts):
            sc = ds.Scene(sh, co, bg, ds.SIZES[i % 2], ds.POSITIONS[(i * 4) % 9])
            p, _ = ds.prompt_with_labels(sc, random.Random(i), template=i % ds.N_TEMPLATES, say=(True, True, True))
            shown.append((model.sample(p, 256, 256, steps=steps, guidance=guidance, seed=1), p))
        grid(shown + samples[8:16], os.path.join(HERE, "samples.png"))
        print("wrote samples.png")


if __name__ == "__main__":
    main()
