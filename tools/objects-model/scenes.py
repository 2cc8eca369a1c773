"""Scenes of the objects model: one everyday thing (an emoji picture from things.json) on a
plain or two-colour background, small or large, in a 3x3 grid of places.

Everything is seeded.  `Scene.random(rng)` draws a scene, `render(scene, w, h)` composes it
from the atlas (`render_atlas.mjs`, resvg) at any size, `prompt_with_labels` writes one of
many natural-English descriptions, and `latent(scene, w, h)` writes the scene's latent (see
designed.py: this model's latent space is designed, not learned).  Held-out (thing,
background, position) combinations are in heldout.json and never used in training.
"""
import json
import os
import random
import subprocess
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "demo-model"))
import dataset as shapes  # noqa: E402  (colours, position phrases, tokenizer of the shapes model)
import designed  # noqa: E402

COLOURS, COLOUR_NAMES, POSITIONS = shapes.COLOURS, shapes.COLOUR_NAMES, shapes.POSITIONS
with open(os.path.join(HERE, "things.json")) as f:
    _THINGS = json.load(f)["things"]
ICONS = [t[0] for t in _THINGS]
THING_WORDS = {t[0]: t[1:] for t in _THINGS}
SIZES = ["small", "large"]
# names that take no "a": plurals and mass nouns
NO_ARTICLE = {"scissors", "glasses", "spectacles", "grapes", "cherries", "french fries", "fries", "chips",
              "popcorn", "cheese", "coffee"}
SIZE_WORDS = shapes.SIZE_WORDS
# side of the thing's square as a fraction of min(width, height); centres of the 3x3 grid
SIZE_SIDE = {"small": 0.26, "large": 0.44}
POS_CENTRES = [0.24, 0.5, 0.76]
DOWN = designed.DOWN
CODE_DIM = 16      # channels of a thing's code
CHANNELS = 4 + CODE_DIM
ATLAS = os.path.join(HERE, "work", "atlas.png")
ATLAS_CELL = 128


CODES = designed.far_codes(len(ICONS), CODE_DIM)


def load_atlas():
    if not os.path.exists(ATLAS):
        subprocess.run(["node", os.path.join(HERE, "render_atlas.mjs"), ATLAS, str(ATLAS_CELL)], check=True)
    im = Image.open(ATLAS).convert("RGBA")
    cols = im.width // ATLAS_CELL
    return [im.crop(((i % cols) * ATLAS_CELL, (i // cols) * ATLAS_CELL,
                     (i % cols + 1) * ATLAS_CELL, (i // cols + 1) * ATLAS_CELL)) for i in range(len(ICONS))]


_sprites = None
_scaled = {}


def sprite(thing, side):
    global _sprites
    if _sprites is None:
        _sprites = load_atlas()
    key = (thing, side)
    if key not in _scaled:
        if len(_scaled) > 4000:
            _scaled.clear()
        _scaled[key] = _sprites[ICONS.index(thing)].resize((side, side), Image.LANCZOS)
    return _scaled[key]


class Scene:
    __slots__ = ("thing", "top", "bottom", "size", "position", "dx", "dy", "ds")

    def __init__(self, thing, top, bottom, size, position, dx=0.0, dy=0.0, ds=1.0):
        self.thing, self.top, self.bottom = thing, top, bottom
        self.size, self.position, self.dx, self.dy, self.ds = size, position, dx, dy, ds

    @staticmethod
    def random(rng, exclude=None, two_colour=0.2):
        while True:
            top = rng.choice(COLOUR_NAMES)
            bottom = rng.choice([c for c in COLOUR_NAMES if c != top]) if rng.random() < two_colour else top
            sc = Scene(rng.choice(ICONS), top, bottom, rng.choice(SIZES), rng.choice(POSITIONS),
                       rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03), rng.uniform(0.92, 1.08))
            if exclude is None or sc.key() not in exclude:
                return sc

    def key(self):
        """What held-out combinations name: the thing, the (top) background, the place."""
        return (self.thing, self.top, self.position)

    def square(self, w, h):
        """The thing's square in pixels: centre x, centre y, side."""
        col, row = shapes.POS_GRID[self.position]
        side = SIZE_SIDE[self.size] * self.ds * min(w, h)
        return (POS_CENTRES[col] + self.dx) * w, (POS_CENTRES[row] + self.dy) * h, side


def background(scene, w, h):
    img = np.empty((h, w, 3), np.uint8)
    img[: h // 2] = COLOURS[scene.top]
    img[h // 2:] = COLOURS[scene.bottom]
    return img


def render(scene, w, h):
    img = Image.fromarray(background(scene, w, h)).convert("RGBA")
    cx, cy, side = scene.square(w, h)
    s = max(2, int(round(side)))
    img.alpha_composite(sprite(scene.thing, s), (int(round(cx - s / 2)), int(round(cy - s / 2))))
    return np.asarray(img.convert("RGB"))


def latent(scene, w, h):
    """The scene's designed latent (designed.py): background, the thing's square, its code."""
    top, bottom = (np.array(COLOURS[c], np.float32) / 127.5 - 1 for c in (scene.top, scene.bottom))
    return designed.write_latent(w, h, top, bottom, scene.square(w, h), CODES[ICONS.index(scene.thing)])


# ---------------------------------------------------------------- prompts
LABEL_HEADS = {"thing": ICONS, "top": COLOUR_NAMES, "bottom": COLOUR_NAMES, "size": SIZES, "position": POSITIONS}
N_TEMPLATES = 5


def _a(phrase):
    return "an" if phrase[0] in "aeiou" else "a"


def background_phrase(scene, rng):
    bgw = rng.choice(shapes.BG_WORDS)
    top = rng.choice(shapes.COLOUR_SYNONYMS.get(scene.top, [scene.top]))
    if scene.top == scene.bottom:
        return f"{top} {bgw}"
    bottom = rng.choice(shapes.COLOUR_SYNONYMS.get(scene.bottom, [scene.bottom]))
    return rng.choice([f"{top} and {bottom} {bgw}", f"{bgw} {top} at the top and {bottom} at the bottom"])


def prompt_with_labels(scene, rng, template=None, say=None):
    """The prompt and, per LABEL_HEADS entry, the index of what it says (len = not said).
    template and say = (size, position, background) fix the phrasing for evaluation."""
    say_size, say_pos, say_bg = say if say is not None else (rng.random() < 0.6, rng.random() < 0.75, rng.random() < 0.85)
    name = rng.choice(THING_WORDS[scene.thing])
    size = rng.choice(SIZE_WORDS[scene.size]) if say_size else None
    noun = f"{size} {name}" if size else name
    obj = f"{_a(noun)} {noun}" if name not in NO_ARTICLE and rng.random() < 0.9 else noun
    pos = rng.choice(shapes.POS_PHRASES[scene.position]) if say_pos else None
    t = rng.randrange(N_TEMPLATES) if template is None else template
    labels = [ICONS.index(scene.thing),
              COLOUR_NAMES.index(scene.top) if say_bg else len(COLOUR_NAMES),
              COLOUR_NAMES.index(scene.bottom) if say_bg else len(COLOUR_NAMES),
              SIZES.index(scene.size) if say_size else len(SIZES),
              POSITIONS.index(scene.position) if say_pos else len(POSITIONS)]
    where = f" {pos}" if pos else ""
    if not say_bg:
        return obj + where, labels
    bg = background_phrase(scene, rng)
    if t == 0:
        p = f"{obj}{where} on {_a(bg)} {bg}"
    elif t == 1:
        p = f"{obj}{where}, {bg}"
    elif t == 2:
        p = f"{_a(bg)} {bg} with {obj}{where}"
    elif t == 3:
        p = (f"{pos}, " if pos else "") + f"{obj} on {bg}"
    else:
        p = f"{obj}{where} against {_a(bg)} {bg}"
    return p, labels


# ---------------------------------------------------------------- tokenizer and held-out set
MAX_LEN = 24
split_words, tokenizer_json = shapes.split_words, shapes.tokenizer_json


def vocabulary():
    words = {",", ".", "-", "a", "an", "the", "of", "and", "picture", "image", "photo", "drawing"}
    rng = random.Random(0)
    for _ in range(40000):
        words.update(split_words(prompt_with_labels(Scene.random(rng, two_colour=0.5), rng)[0]))
    return ["[PAD]", "[UNK]"] + sorted(words)


def tokenize(text, vocab_index):
    return shapes.tokenize(text, vocab_index, MAX_LEN)


def load_heldout():
    with open(os.path.join(HERE, "heldout.json")) as f:
        return {tuple(x) for x in json.load(f)["combinations"]}


def write_heldout(seed=1234, per_thing=2):
    """per_thing (background, position) pairs of every thing, never shown in training."""
    rng = random.Random(seed)
    combos = [[t, rng.choice(COLOUR_NAMES), rng.choice(POSITIONS)] for t in ICONS for _ in range(per_thing)]
    with open(os.path.join(HERE, "heldout.json"), "w") as f:
        json.dump({"seed": seed, "combinations": combos}, f, indent=0)
    return combos


if __name__ == "__main__":
    if "--write-heldout" in sys.argv:
        print(len(write_heldout()), "held-out combinations written")
    rng = random.Random(0)
    for _ in range(10):
        sc = Scene.random(rng)
        print(sc.key(), sc.size, "|", prompt_with_labels(sc, rng)[0])
    v = vocabulary()
    print(len(v), "words")
    c = CODES
    d = (np.abs(c[:, None] - c[None]).sum(-1) / 2)[~np.eye(len(c), dtype=bool)]
    print("code min Hamming distance", d.min())
