"""Scores a picture of the objects model from its pixels alone: the background colour, the
place of the thing on the 3x3 grid, and which thing it is — the nearest of every thing's
reference (its resvg rendering) after both go through the same crop: the pixels that differ
from the background, squared around their bounding box, 32x32.  tests/helpers/objects-score.ts
is the same measure in TypeScript."""
import numpy as np
from PIL import Image

import scenes as sc

PALETTE = np.array([sc.COLOURS[c] for c in sc.COLOUR_NAMES], np.float32)
FG_DISTANCE = 60.0   # RGB distance from the background that counts as the thing
CROP = 32
_refs = {}


def nearest_colour(rgb):
    return sc.COLOUR_NAMES[int(np.argmin(((PALETTE - rgb) ** 2).sum(1)))]


def background_of(img):
    """The median of the image's outer ring, per half (top, bottom): a thing touches at most
    part of it."""
    h, w, _ = img.shape
    ring = max(2, min(h, w) // 64)

    def half(part):
        edge = np.concatenate([part[:ring].reshape(-1, 3), part[-ring:].reshape(-1, 3),
                               part[:, :ring].reshape(-1, 3), part[:, -ring:].reshape(-1, 3)])
        return np.median(edge.astype(np.float32), axis=0)
    return half(img[: h // 2]), half(img[h // 2:])


def foreground(img, top, bottom):
    h = img.shape[0]
    bg = np.empty(img.shape, np.float32)
    bg[: h // 2], bg[h // 2:] = top, bottom
    return np.sqrt(((img.astype(np.float32) - bg) ** 2).sum(2)) > FG_DISTANCE


def crop(img, mask, fill):
    """The thing's pixels, squared around their bounding box, on a plain `fill`, CROP x CROP."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = max(y1 - y0, x1 - x0)
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    out = np.empty((side, side, 3), np.float32)
    out[:] = fill
    oy, ox = int(round(cy - side / 2)), int(round(cx - side / 2))
    sy0, sx0 = max(oy, 0), max(ox, 0)
    sy1, sx1 = min(oy + side, img.shape[0]), min(ox + side, img.shape[1])
    part = np.where(mask[sy0:sy1, sx0:sx1, None], img[sy0:sy1, sx0:sx1], fill)
    out[sy0 - oy:sy1 - oy, sx0 - ox:sx1 - ox] = part
    small = Image.fromarray(out.clip(0, 255).astype(np.uint8)).resize((CROP, CROP), Image.BOX)
    return np.asarray(small, np.float32)


def references(bg_name):
    """Every thing rendered on the named background colour, through the same crop."""
    if bg_name not in _refs:
        fill = np.array(sc.COLOURS[bg_name], np.float32)
        out = []
        for thing in sc.ICONS:
            tile = Image.new("RGBA", (128, 128), tuple(int(v) for v in fill) + (255,))
            tile.alpha_composite(sc.sprite(thing, 128))
            img = np.asarray(tile.convert("RGB"))
            mask = foreground(img, fill, fill)
            out.append(crop(img, mask, fill) if mask.any() else np.tile(fill, (CROP, CROP, 1)))
        _refs[bg_name] = np.stack(out)
    return _refs[bg_name]


def score(img):
    """What the picture shows: background (top, bottom) names, the grid place, and the things
    ranked nearest first (None when no thing stands out)."""
    h, w, _ = img.shape
    top, bottom = background_of(img)
    top_name, bottom_name = nearest_colour(top), nearest_colour(bottom)
    mask = foreground(img, top, bottom)
    if mask.sum() < 0.002 * h * w:
        return {"top": top_name, "bottom": bottom_name, "position": None, "ranked": []}
    ys, xs = np.nonzero(mask)
    fx, fy = (xs.min() + xs.max() + 1) / 2 / w, (ys.min() + ys.max() + 1) / 2 / h
    col, row = (0 if f < 0.37 else 1 if f < 0.63 else 2 for f in (fx, fy))
    position = sc.POSITIONS[row * 3 + col]
    fill = np.array(sc.COLOURS[top_name], np.float32) if top_name == bottom_name else (top + bottom) / 2
    refs = references(top_name)
    d = ((refs - crop(img, mask, fill)[None]) ** 2).mean(axis=(1, 2, 3))
    ranked = [sc.ICONS[i] for i in np.argsort(d)]
    return {"top": top_name, "bottom": bottom_name, "position": position, "ranked": ranked}
