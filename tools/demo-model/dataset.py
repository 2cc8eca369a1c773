"""Procedural scene generator for the Archipelago demo diffusion model.

A scene is one flat-coloured shape on a flat-coloured background.  Everything is
seeded: `Scene.random(rng)` draws a scene, `render(scene, w, h)` draws it at any size
(positions are relative to width/height, shape sizes to min(width, height)), and
`prompt(scene, rng)` writes one of many natural-English descriptions of it.

Held-out (shape, colour, background) combinations are listed in `heldout.json`
(generated once by `python3 dataset.py --write-heldout`, committed) and never used in
training; `evaluate.py` renders them.
"""
import json
import math
import os
import random
import re
import sys

import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))

# Colours far apart in RGB so an evaluator can tell them apart from pixels.
COLOURS = {
    "red": (220, 30, 30),
    "orange": (255, 140, 0),
    "yellow": (250, 225, 30),
    "green": (30, 170, 50),
    "cyan": (40, 210, 230),
    "blue": (30, 60, 220),
    "purple": (130, 40, 170),
    "pink": (255, 130, 200),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
COLOUR_NAMES = list(COLOURS)
# extra words that mean the same colour (used only in prompts)
COLOUR_SYNONYMS = {"purple": ["purple", "violet"]}

SHAPES = ["circle", "square", "triangle", "star", "heart", "diamond", "cross", "ring"]
SHAPE_SYNONYMS = {
    "circle": ["circle", "disc", "dot"],
    "square": ["square", "box"],
    "triangle": ["triangle"],
    "star": ["star"],
    "heart": ["heart"],
    "diamond": ["diamond", "rhombus"],
    "cross": ["cross", "plus sign"],
    "ring": ["ring", "donut"],
}

SIZES = ["small", "large"]
SIZE_WORDS = {"small": ["small", "little", "tiny"], "large": ["large", "big", "huge"]}
# radius as a fraction of min(width, height)
SIZE_RADIUS = {"small": 0.09, "large": 0.18}

# 3x3 grid: (column, row) -> phrase variants
POSITIONS = ["top left", "top", "top right", "left", "center", "right",
             "bottom left", "bottom", "bottom right"]
POS_GRID = {p: (i % 3, i // 3) for i, p in enumerate(POSITIONS)}
POS_CENTRES = [0.2, 0.5, 0.8]
POS_PHRASES = {
    "top left": ["in the top left corner", "at the top left", "in the upper left corner"],
    "top": ["at the top", "at the top center", "near the top"],
    "top right": ["in the top right corner", "at the top right", "in the upper right corner"],
    "left": ["on the left", "at the left", "on the left side"],
    "center": ["in the center", "in the middle", "centered"],
    "right": ["on the right", "at the right", "on the right side"],
    "bottom left": ["in the bottom left corner", "at the bottom left", "in the lower left corner"],
    "bottom": ["at the bottom", "at the bottom center", "near the bottom"],
    "bottom right": ["in the bottom right corner", "at the bottom right", "in the lower right corner"],
}
BG_WORDS = ["background", "backdrop"]


def load_heldout():
    with open(os.path.join(HERE, "heldout.json")) as f:
        return [tuple(x) for x in json.load(f)["combinations"]]


def write_heldout(seed=1234, n=72):
    """Fixed held-out (shape, colour, background) triples: every shape, colour and
    background still appears in training, only these exact triples do not."""
    rng = random.Random(seed)
    combos = [(s, c, b) for s in SHAPES for c in COLOUR_NAMES for b in COLOUR_NAMES if b != c]
    rng.shuffle(combos)
    held = sorted(combos[:n])
    with open(os.path.join(HERE, "heldout.json"), "w") as f:
        json.dump({"seed": seed, "note": "(shape, colour, background) triples never used in training",
                   "combinations": held}, f, indent=1)
    return held


class Scene:
    __slots__ = ("shape", "colour", "background", "size", "position", "dx", "dy", "ds")

    def __init__(self, shape, colour, background, size, position, dx=0.0, dy=0.0, ds=1.0):
        self.shape, self.colour, self.background = shape, colour, background
        self.size, self.position = size, position
        self.dx, self.dy, self.ds = dx, dy, ds

    @staticmethod
    def random(rng, exclude=None, only=None):
        while True:
            if only is not None:
                shape, colour, bg = only[rng.randrange(len(only))]
            else:
                shape = rng.choice(SHAPES)
                colour = rng.choice(COLOUR_NAMES)
                bg = rng.choice([c for c in COLOUR_NAMES if c != colour])
            if exclude is not None and (shape, colour, bg) in exclude:
                continue
            return Scene(shape, colour, bg, rng.choice(SIZES), rng.choice(POSITIONS),
                         rng.uniform(-0.04, 0.04), rng.uniform(-0.04, 0.04), rng.uniform(0.9, 1.1))

    def key(self):
        return (self.shape, self.colour, self.background)


def _star(cx, cy, r, n=5, inner=0.45):
    pts = []
    for i in range(2 * n):
        a = -math.pi / 2 + i * math.pi / n
        rr = r if i % 2 == 0 else r * inner
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _heart(cx, cy, r, n=48):
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + r * x / 16.5, cy - r * (y + 2.5) / 15.5))
    return pts


def shape_centre_radius(scene, width, height):
    """Pixel centre and radius of the scene's shape."""
    gx, gy = POS_GRID[scene.position]
    cx = (POS_CENTRES[gx] + scene.dx) * width
    cy = (POS_CENTRES[gy] + scene.dy) * height
    r = SIZE_RADIUS[scene.size] * scene.ds * min(width, height)
    return cx, cy, r


def draw_shape(d, s, cx, cy, r, col, hole):
    """Draw shape `s` centred at (cx, cy) with radius r on ImageDraw `d` (hole = the ring's
    inside colour)."""
    if s == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
    elif s == "square":
        q = r * 0.85
        d.rectangle([cx - q, cy - q, cx + q, cy + q], fill=col)
    elif s == "triangle":
        d.polygon([(cx, cy - r), (cx + r * 0.95, cy + r * 0.75), (cx - r * 0.95, cy + r * 0.75)], fill=col)
    elif s == "star":
        d.polygon(_star(cx, cy, r * 1.05), fill=col)
    elif s == "heart":
        d.polygon(_heart(cx, cy, r), fill=col)
    elif s == "diamond":
        d.polygon([(cx, cy - r), (cx + r * 0.75, cy), (cx, cy + r), (cx - r * 0.75, cy)], fill=col)
    elif s == "cross":
        a = r * 0.33
        d.rectangle([cx - r, cy - a, cx + r, cy + a], fill=col)
        d.rectangle([cx - a, cy - r, cx + a, cy + r], fill=col)
    elif s == "ring":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
        ri = r * 0.55
        d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=hole)


def shape_mask(s, cx, cy, r, width, height):
    """Boolean [height, width] mask of shape `s` (what the shape scorer matches against)."""
    img = Image.new("L", (width, height), 0)
    draw_shape(ImageDraw.Draw(img), s, cx, cy, r, 255, 0)
    return np.asarray(img) > 0


def render(scene, width, height):
    """RGB uint8 array [height, width, 3]."""
    img = Image.new("RGB", (width, height), COLOURS[scene.background])
    cx, cy, r = shape_centre_radius(scene, width, height)
    draw_shape(ImageDraw.Draw(img), scene.shape, cx, cy, r, COLOURS[scene.colour], COLOURS[scene.background])
    return np.asarray(img)


def _a(word):
    return "an" if word[0] in "aeiou" else "a"


def prompt(scene, rng, full=False):
    """Natural-English prompt.  full=True always mentions colour, background, size and
    position (used for evaluation); otherwise size/position/background may be omitted."""
    return prompt_with_labels(scene, rng, full)[0]


# what the text encoder's training heads predict; index len(...) = "not said"
LABEL_HEADS = {"shape": SHAPES, "colour": COLOUR_NAMES, "background": COLOUR_NAMES,
               "size": SIZES, "position": POSITIONS}


N_TEMPLATES = 6


def prompt_with_labels(scene, rng, full=False, template=None, say=None):
    """The prompt and, per LABEL_HEADS entry, the index of what it says (len = not said).
    template (0..N_TEMPLATES-1) and say = (size, position, background) booleans fix the
    phrasing for evaluation; by default they are drawn from rng."""
    colour = rng.choice(COLOUR_SYNONYMS.get(scene.colour, [scene.colour]))
    bgc = rng.choice(COLOUR_SYNONYMS.get(scene.background, [scene.background]))
    shape = rng.choice(SHAPE_SYNONYMS[scene.shape])
    say_size = full or rng.random() < 0.85
    say_pos = full or rng.random() < 0.85
    say_bg = full or rng.random() < 0.95
    if say is not None:
        say_size, say_pos, say_bg = say
    size = rng.choice(SIZE_WORDS[scene.size]) if say_size else None
    pos = rng.choice(POS_PHRASES[scene.position]) if say_pos else None
    bgw = rng.choice(BG_WORDS)
    noun = " ".join(w for w in (size, colour, shape) if w)
    obj = f"{_a(noun)} {noun}"
    pos_phrase = pos
    t = rng.randrange(N_TEMPLATES)
    if template is not None:
        t = template
    labels = [SHAPES.index(scene.shape), COLOUR_NAMES.index(scene.colour),
              COLOUR_NAMES.index(scene.background) if say_bg else len(COLOUR_NAMES),
              SIZES.index(scene.size) if say_size else len(SIZES),
              POSITIONS.index(scene.position) if say_pos else len(POSITIONS)]
    if not say_bg:
        parts = [obj] + ([pos_phrase] if pos_phrase else [])
        return " ".join(parts), labels
    if t == 0:
        p = f"{obj}" + (f" {pos_phrase}" if pos_phrase else "") + f" on {_a(bgc)} {bgc} {bgw}"
    elif t == 1:
        p = f"{obj}" + (f" {pos_phrase}" if pos_phrase else "") + f", {bgc} {bgw}"
    elif t == 2:
        p = f"{bgc} {bgw} with {obj}" + (f" {pos_phrase}" if pos_phrase else "")
    elif t == 3:
        p = f"{_a(bgc)} {bgc} {bgw} with {obj}" + (f" {pos_phrase}" if pos_phrase else "")
    elif t == 4:
        p = (f"{pos_phrase}, " if pos_phrase else "") + f"{obj} on {bgc}"
    else:
        p = f"{obj}" + (f" {pos_phrase}" if pos_phrase else "") + f" against {_a(bgc)} {bgc} {bgw}"
    return p, labels


# ---------------------------------------------------------------- tokenizer
MAX_LEN = 24
_SPLIT = re.compile(r"\w+|[^\w\s]")


def split_words(text):
    """Lowercase, split on whitespace and punctuation (like BertPreTokenizer)."""
    return _SPLIT.findall(text.lower())


def vocabulary():
    words = set()
    for v in COLOUR_SYNONYMS.values():
        words.update(v)
    words.update(COLOUR_NAMES)
    for v in SHAPE_SYNONYMS.values():
        for x in v:
            words.update(split_words(x))
    for v in SIZE_WORDS.values():
        words.update(v)
    for v in POS_PHRASES.values():
        for x in v:
            words.update(split_words(x))
    words.update(BG_WORDS)
    words.update(["a", "an", "on", "with", "in", "the", "against", "and", "of", "shape", "image",
                  "picture", "colored", "coloured", ",", ".", "-", "middle", "corner", "side"])
    # also harvest from generated prompts so nothing is missed
    rng = random.Random(0)
    for _ in range(20000):
        words.update(split_words(prompt(Scene.random(rng), rng)))
    return ["[PAD]", "[UNK]"] + sorted(words)


def tokenize(text, vocab_index, max_len=MAX_LEN):
    ids = [vocab_index.get(w, 1) for w in split_words(text)][:max_len]
    return ids + [0] * (max_len - len(ids))


def tokenizer_json(vocab):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": 0, "content": "[PAD]", "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True},
            {"id": 1, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True},
        ],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": None,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {w: i for i, w in enumerate(vocab)}},
    }


def write_shape_fixtures(out_dir, seed=4242):
    """Rendered scenes for the JavaScript shape scorer's unit test (tests/fixtures/shapes):
    every shape, large and small, at 256x256 and 384x256."""
    rng = random.Random(seed)
    os.makedirs(out_dir, exist_ok=True)
    for s in SHAPES:
        for size, (w, h) in (("large", (256, 256)), ("small", (256, 256)), ("small", (384, 256))):
            colour = rng.choice(COLOUR_NAMES)
            bg = rng.choice([c for c in COLOUR_NAMES if c != colour])
            sc = Scene(s, colour, bg, size, rng.choice(POSITIONS), rng.uniform(-0.04, 0.04),
                       rng.uniform(-0.04, 0.04), rng.uniform(0.9, 1.1))
            Image.fromarray(render(sc, w, h)).save(
                os.path.join(out_dir, f"{s}-{size}-{w}x{h}-{colour}-on-{bg}.png"), optimize=True)


if __name__ == "__main__":
    if "--write-shape-fixtures" in sys.argv:
        write_shape_fixtures(os.path.join(HERE, "..", "..", "tests", "fixtures", "shapes"))
        sys.exit(0)
    if "--write-heldout" in sys.argv:
        print(len(write_heldout()), "held-out combinations written")
    rng = random.Random(0)
    for _ in range(12):
        sc = Scene.random(rng)
        print(sc.key(), sc.size, sc.position, "|", prompt(sc, rng))
    print(len(vocabulary()), "words:", vocabulary())
