#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The obvious alternative to `mirad-stats --all DIR` on a MIRAD-layout tree:
PIL decodes, NumPy computes the same per-image measures (luma in sRGB and
linear light, RMS contrast, Laplacian variance, Immerkaer noise, border
background, foreground luminance and centroid), the masks are labelled with
8-connectivity (a breadth-first search over the defect pixels: Debian's
python3-numpy has no scipy), and the per-category flags are derived with
mirad-stats' thresholds.  Prints one line per category:
category images DV DI DR DB masks regions.  With --imaging-only the masks
are skipped (both counts print as 0), for a comparison without the
pure-Python labelling.
"""
import collections
import math
import os
import sys

import numpy as np
from PIL import Image

EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
FG_DELTA = 48
DI_RATIO, DI_MIN_FG = 1.25, 0.05
DB_DISTANCE = 40.0
DV_SHARP_RATIO, DV_CENTROID_STD = 2.0, 0.02

_c = np.arange(256) / 255.0
LIN16 = np.round(np.where(_c <= 0.04045, _c / 12.92,
                          ((_c + 0.055) / 1.055) ** 2.4) * 65535).astype(np.int64)


def measure(path):
    im = Image.open(path)
    a = np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im)
    if a.ndim == 2:
        a = np.stack([a, a, a], axis=2)
    h, w = a.shape[:2]
    r, g, b = (a[..., k].astype(np.int64) for k in range(3))
    y8 = (54 * r + 183 * g + 19 * b + 128) >> 8
    lin = 2126 * LIN16[r] + 7152 * LIN16[g] + 722 * LIN16[b]
    strip = max(1, min(w, h) // 32)
    border = np.concatenate([a[:strip].reshape(-1, 3), a[h - strip:].reshape(-1, 3),
                             a[strip:h - strip, :strip].reshape(-1, 3),
                             a[strip:h - strip, w - strip:].reshape(-1, 3)])
    n = len(border)
    bg = np.sort(border, axis=0)[(n - 1) // 2].astype(np.int64)
    d = np.abs(a.astype(np.int64) - bg).max(axis=2)
    fg = d > FG_DELTA
    nfg = int(fg.sum())
    m = {"w": w, "h": h, "bg": bg, "fg_share": nfg / (w * h)}
    if nfg:
        ys, xs = np.nonzero(fg)
        m["fg_lin"] = lin[fg].sum() / (nfg * 10000 * 65535)
        m["cx"] = (xs.mean() + 0.5) / w
        m["cy"] = (ys.mean() + 0.5) / h
    else:
        m["fg_lin"] = lin.mean() / (10000 * 65535)
        m["cx"] = m["cy"] = 0.5
    m["luma_srgb"] = (2126 * r + 7152 * g + 722 * b).mean() / (10000 * 255)
    m["luma_lin"] = lin.mean() / (10000 * 65535)
    m["contrast"] = y8.std() / 255
    c = y8[1:-1, 1:-1]
    edges = y8[:-2, 1:-1] + y8[2:, 1:-1] + y8[1:-1, :-2] + y8[1:-1, 2:]
    corners = y8[:-2, :-2] + y8[:-2, 2:] + y8[2:, :-2] + y8[2:, 2:]
    lap = edges - 4 * c
    m["sharpness"] = lap.var()
    m["noise"] = math.sqrt(math.pi / 2) * np.abs(corners - 2 * edges + 4 * c).sum() / (
        6 * (w - 2) * (h - 2))
    return m


def regions(path):
    a = np.asarray(Image.open(path))
    on = a != 0 if a.ndim == 2 else (a != 0).any(axis=2)
    h, w = on.shape
    todo = set(zip(*np.nonzero(on)))
    sizes = []
    while todo:
        stack = [todo.pop()]
        size = 0
        while stack:
            y, x = stack.pop()
            size += 1
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    p = (y + dy, x + dx)
                    if p in todo:
                        todo.remove(p)
                        stack.append(p)
        sizes.append(size)
    return int(on.sum()), sorted(sizes)


def pct(v, p):
    v = sorted(v)
    return v[((len(v) - 1) * p + 50) // 100] if v else 0.0


def flags(ms):
    sizes = {(m["w"], m["h"]) for m in ms}
    fg = [m["fg_lin"] for m in ms if m["fg_share"] >= DI_MIN_FG]
    di = len(fg) > 1 and pct(fg, 10) > 0 and pct(fg, 90) / pct(fg, 10) > DI_RATIO
    seeds = []
    for bg in sorted(tuple(int(v) for v in m["bg"]) for m in ms):
        if not any(sum((p - q) ** 2 for p, q in zip(bg, s)) <= DB_DISTANCE ** 2 for s in seeds):
            seeds.append(bg)
    sh = [m["sharpness"] for m in ms]
    ratio = pct(sh, 90) / pct(sh, 10) if pct(sh, 10) > 0 else 1.0
    cstd = max(np.std([m["cx"] for m in ms], ddof=1), np.std([m["cy"] for m in ms], ddof=1))
    dv = ratio > DV_SHARP_RATIO or cstd > DV_CENTROID_STD
    return dv, di, len(sizes) > 1, len(seeds) > 1


def main(root, with_masks=True):
    per_cat = collections.defaultdict(list)
    masks = collections.Counter()
    nregions = collections.Counter()
    for cat in sorted(os.listdir(root)):
        if not os.path.isdir(os.path.join(root, cat)):
            continue
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, cat)):
            dirnames.sort()
            if "ground_truth" in dirpath:
                continue
            for name in sorted(filenames):
                if not name.lower().endswith(EXTS):
                    continue
                path = os.path.join(dirpath, name)
                per_cat[cat].append(measure(path))
                if with_masks and os.path.basename(dirpath) == "anomaly":
                    stem = os.path.splitext(name)[0]
                    mask = os.path.join(root, cat, "ground_truth", "anomaly", stem + "_mask.png")
                    if os.path.exists(mask):
                        masks[cat] += 1
                        nregions[cat] += len(regions(mask)[1])
    for cat, ms in per_cat.items():
        f = flags(ms)
        print(cat, len(ms), *(int(x) for x in f), masks[cat], nregions[cat])


if __name__ == "__main__":
    if sys.argv[1] == "--imaging-only":
        main(sys.argv[2], with_masks=False)
    else:
        main(sys.argv[1])
