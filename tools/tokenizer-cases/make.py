"""Token ids for prompts as the demo model's training code computes them (dataset.py's
split_words + vocabulary), for src/lib/diffusion/tokenizer.test.ts: the app's tokenizer on
tokenizer.json must give exactly the ids the model was trained with.

Run: /usr/bin/python3 tools/tokenizer-cases/make.py > tests/fixtures/demo-tokenizer-cases.json
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo-model"))
import dataset as ds  # noqa: E402


def main():
    vocab = ds.vocabulary()
    idx = {w: i for i, w in enumerate(vocab)}
    rng = random.Random(20261125)
    prompts = []
    for i in range(300):
        sc = ds.Scene(rng.choice(ds.SHAPES), rng.choice(ds.COLOUR_NAMES), rng.choice(ds.COLOUR_NAMES),
                      rng.choice(ds.SIZES), rng.choice(ds.POSITIONS))
        prompts.append(ds.prompt(sc, rng, full=bool(i % 2)))
    # Odd inputs: case, punctuation, unknown words, over-long prompts, empty.
    prompts += ["A RED Circle, on a BLUE background!", "a mauve zigzag on a red background",
                "", "   ", "red " * 40, "a red-orange star; tiny.", "reddish circle", "café au lait"]
    cases = [{"prompt": p, "ids": ds.tokenize(p, idx)} for p in prompts]
    # One case per line: reviewable diffs when the vocabulary changes.
    sys.stdout.write("{\"vocabSize\": %d, \"cases\": [\n" % len(vocab))
    sys.stdout.write(",\n".join(json.dumps(c) for c in cases))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main()
