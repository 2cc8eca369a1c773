"""The shapes model's scorer, from pixels alone (evaluate.py runs it; the TypeScript copies
are tests/helpers/colour-score.ts and shape-score.ts): colours against the palette, the
shape by its best overlap with each of the 8 shapes fitted to its bounding box."""
import numpy as np

import dataset as ds

PALETTE = np.array([ds.COLOURS[c] for c in ds.COLOUR_NAMES], dtype=np.float32)


def _template_boxes():
    """Each shape's bounding box in units of its radius, relative to its centre."""
    R, N = 200.0, 600
    out = {}
    for s in ds.SHAPES:
        m = ds.shape_mask(s, N / 2, N / 2, R, N, N)
        ys, xs = np.nonzero(m)
        out[s] = ((xs.min() - N / 2) / R, (xs.max() + 1 - N / 2) / R,
                  (ys.min() - N / 2) / R, (ys.max() + 1 - N / 2) / R)
    return out


TEMPLATE_BOX = _template_boxes()


def _open3(m):
    """3x3 binary opening: drops one-pixel specks and halos before the bounding box."""
    p = np.pad(m, 1)
    H, W = m.shape
    e = np.ones_like(m)
    for dy in range(3):
        for dx in range(3):
            e &= p[dy:dy + H, dx:dx + W]
    p = np.pad(e, 1)
    d = np.zeros_like(m)
    for dy in range(3):
        for dx in range(3):
            d |= p[dy:dy + H, dx:dx + W]
    return d


def classify_shape(mask):
    """Which of the 8 shapes a boolean mask is: for each shape, its mask drawn to fill the
    measured bounding box (centre and radius from the box, radius scaled by 0.9/1/1.1),
    scored by IoU; the best wins.  Returns (shape, {shape: best IoU}) or (None, {})."""
    H, W = mask.shape
    m = _open3(mask)
    if m.sum() < 16:
        m = mask
    ys, xs = np.nonzero(m)
    if len(xs) < 4:
        return None, {}
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    ious = {}
    for s, (tx0, tx1, ty0, ty1) in TEMPLATE_BOX.items():
        r0 = 0.5 * ((x1 - x0) / (tx1 - tx0) + (y1 - y0) / (ty1 - ty0))
        best = 0.0
        for k in (0.9, 1.0, 1.1):
            r = r0 * k
            cx = 0.5 * (x0 + x1) - r * 0.5 * (tx0 + tx1)
            cy = 0.5 * (y0 + y1) - r * 0.5 * (ty0 + ty1)
            t = ds.shape_mask(s, cx, cy, r, W, H)
            inter = (t & mask).sum()
            union = (t | mask).sum()
            best = max(best, inter / max(1, union))
        ious[s] = float(best)
    return max(ious, key=ious.get), ious


def score(img, scene):
    px = img.reshape(-1, 3).astype(np.float32)
    d = ((px[:, None, :] - PALETTE[None]) ** 2).sum(-1)
    cls = d.argmin(1)
    counts = np.bincount(cls, minlength=len(PALETTE))
    bg = counts.argmax()
    bg_mean = px[cls == bg].mean(0)
    fg = ((px - bg_mean) ** 2).sum(1) > 60.0 ** 2
    res = {"background": ds.COLOUR_NAMES[bg] == scene.background, "colour": False, "position": False,
           "shape": False, "pred_bg": ds.COLOUR_NAMES[bg], "pred_colour": None, "pred_cell": None,
           "pred_shape": None}
    if fg.sum() < 0.004 * len(px):
        return res
    H, W = img.shape[:2]
    # shape: the mask of everything far from the background (whatever its colour)
    pred_shape, _ = classify_shape(fg.reshape(H, W))
    res["pred_shape"] = pred_shape
    res["shape"] = pred_shape == scene.shape
    fcounts = np.bincount(cls[fg], minlength=len(PALETTE))
    fcounts[bg] = 0
    if fcounts.max() == 0:
        return res
    sc = fcounts.argmax()
    res["pred_colour"] = ds.COLOUR_NAMES[sc]
    res["colour"] = ds.COLOUR_NAMES[sc] == scene.colour
    m = (fg & (cls == sc)).reshape(H, W)
    ys, xs = np.nonzero(m)
    cx, cy = xs.mean() / W, ys.mean() / H
    cell = (min(2, int(cx * 3)), min(2, int(cy * 3)))
    res["pred_cell"] = cell
    res["position"] = cell == ds.POS_GRID[scene.position]
    return res

