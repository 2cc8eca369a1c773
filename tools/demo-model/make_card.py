"""Fill the score table and training figures of MODEL_CARD.md from eval_results.json,
ckpt/unet_ema.pt and static/models/demo/manifest.json (between the AUTO markers)."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    res = json.load(open(os.path.join(HERE, "eval_results.json")))
    man = json.load(open(os.path.join(ROOT, "static", "models", "demo", "manifest.json")))
    lines = [f"Evaluated at training step {res['step']} ({res['train_minutes']} min of UNet training), "
             f"DDIM {res['steps']} steps, guidance {res['guidance']}, fixed seeds (`evaluate.py`).", "",
             "| run | images | shape colour | background colour | position | all three |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in res["runs"].items():
        lines.append(f"| {name} | {r['n']} | {r['colour']} % | {r['background']} % | {r['position']} % | {r['all']} % |")
    gt = res["scorer_ground_truth"]
    lines += ["", f"Scorer on ground-truth renders (sanity check): colour {gt['colour']} %, "
              f"background {gt['background']} %, position {gt['position']} %."]
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
