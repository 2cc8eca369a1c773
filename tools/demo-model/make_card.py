"""Fill the score table and training figures of MODEL_CARD.md from eval_results.json,
tune_results.json, ckpt/unet_ema.pt and static/models/demo/manifest.json (between the AUTO
markers)."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHAPES = ["circle", "square", "triangle", "star", "heart", "diamond", "cross", "ring"]


def confusion_table(m):
    cols = SHAPES + ["none"]
    lines = ["| drawn ↓ / prompt asked → | " + " | ".join(SHAPES) + " |",
             "|---|" + "---:|" * len(SHAPES)]
    for p in cols:
        row = [str(m.get(t, {}).get(p, 0) or "") for t in SHAPES]
        if any(row) or p != "none":
            lines.append(f"| **{p}** | " + " | ".join(row) + " |")
    return lines


def main():
    res = json.load(open(os.path.join(HERE, "eval_results.json")))
    man = json.load(open(os.path.join(ROOT, "static", "models", "demo", "manifest.json")))
    lines = [f"Evaluated at training step {res['step']} ({res['train_minutes']} min of UNet training), "
             f"DDIM {res['steps']} steps, guidance {res['guidance']}, {res['seeds_per_prompt']} fixed seeds "
             f"per prompt (`evaluate.py`). Background and position are scored on the prompts that say "
             f"them; \"all\" = everything the prompt says.", "",
             "| run | images | shape | shape colour | background colour | position | all |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in res["runs"].items():
        lines.append(f"| {name} | {r['n']} | {r['shape']} % | {r['colour']} % | {r['background']} % "
                     f"({r['n_background']}) | {r['position']} % ({r['n_position']}) | {r['all']} % |")
    gt = res["scorer_ground_truth"]
    lines += ["", f"Scorer on {gt['n']} ground-truth renders (sanity check): shape {gt['shape']} %, colour "
              f"{gt['colour']} %, background {gt['background']} %, position {gt['position']} %."]
    ae = res.get("autoencoder_round_trip")
    if ae:
        lines += ["", "Autoencoder round trip of rendered scenes (encode, decode, score): " + "; ".join(
            f"{k}: shape {v['shape']} % (small shapes {v['shape_small']} %), colour {v['colour']} %, "
            f"background {v['background']} %, position {v['position']} % ({v['n']} scenes)" for k, v in ae.items()) + "."]
    tune_path = os.path.join(HERE, "tune_results.json")
    if os.path.exists(tune_path):
        tune = json.load(open(tune_path))
        if "best" in tune:
            lines += ["", "Guidance chosen on training combinations by the shape score (`evaluate.py --tune`, "
                      f"{tune['runs'][0]['n']} images each): " + ", ".join(
                          f"{r['guidance']} → shape {r['shape']} % / all {r['all']} %" for r in tune["runs"]) + "."]
    for name, m in res.get("confusion", {}).items():
        if name.startswith("held-out 256") or name.startswith("held-out 512"):
            lines += ["", f"Shape confusion, {name} (columns: the shape the prompt asked for; rows: the shape "
                      "the scorer sees):", ""] + confusion_table(m)
    files = man["files"]
    tot = sum(f["bytes"] for f in files.values())
    lines += ["", "| file | bytes |", "|---|---:|"]
    lines += [f"| `{f['url']}` | {f['bytes']:,} |" for f in files.values()]
    lines += [f"| total | {tot:,} |"]
    card = open(os.path.join(HERE, "MODEL_CARD.md")).read()
    a, b = card.index("<!-- AUTO:START -->"), card.index("<!-- AUTO:END -->")
    card = card[: a + len("<!-- AUTO:START -->")] + "\n" + "\n".join(lines) + "\n" + card[b:]
    open(os.path.join(HERE, "MODEL_CARD.md"), "w").write(card)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
