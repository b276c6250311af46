# SPDX-License-Identifier: MIT
# The chain of bench_augment.json in NumPy/SciPy/PIL: the obvious
# alternative to mirad-augment.  Usage: bench_augment.py MANIFEST OUTDIR
# (reads the records' images, writes PNGs under OUTDIR at the same paths).
import json
import os
import sys
from multiprocessing import Pool

import numpy as np
from PIL import Image
from scipy import ndimage

RGB2XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                    [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]])
BFD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367],
                [0.0389, -0.0685, 1.0296]])


def decode(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def encode(lin):
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin,
                    1.055 * lin ** (1 / 2.4) - 0.055)


def planck_xy(t):
    u = 1e3 / t
    if t <= 4000:
        x = -0.2661239 * u**3 - 0.2343589 * u**2 + 0.8776956 * u + 0.179910
    else:
        x = -3.0258469 * u**3 + 2.1070379 * u**2 + 0.2226347 * u + 0.240390
    if t < 2222:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return np.array([x / y, 1.0, (1 - x - y) / y])


def cast_matrix(cct, ref=6504.0):
    rs, rd = BFD @ planck_xy(ref), BFD @ planck_xy(cct)
    m = np.linalg.inv(BFD) @ np.diag(rd / rs) @ BFD
    return np.linalg.inv(RGB2XYZ) @ m @ RGB2XYZ


def disk(r):
    half = int(np.ceil(r + 0.5))
    ss = 8
    o = (np.arange(ss) + 0.5) / ss - 0.5
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    k = np.zeros(xx.shape)
    for dy in o:
        for dx in o:
            k += (xx + dx) ** 2 + (yy + dy) ** 2 <= r * r
    return k / k.sum()


def line(length):
    n = int(np.ceil(length))
    k = np.ones((1, n if n % 2 else n + 1))
    return k / k.sum()


def process(im8):
    h, w = im8.shape[:2]
    lng = max(w, h)
    lin = decode(im8.astype(np.float32) / 255).astype(np.float32)
    # Geometry: lens (k1 0.05) then rotation 3 deg, scale 1.02.
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xx - cx, yy - cy
    f = 1 + 0.05 * (dx * dx + dy * dy) / (cx * cx + cy * cy)
    px, py = dx * f, dy * f
    th = -np.radians(3)
    ct, st = np.cos(th) / 1.02, np.sin(th) / 1.02
    sx, sy = cx + ct * px - st * py, cy + st * px + ct * py
    border = np.concatenate([lin[:36].reshape(-1, 3), lin[-36:].reshape(-1, 3)]).mean(0)
    lin = np.stack([ndimage.map_coordinates(lin[..., c], [sy, sx], order=1,
                                            cval=border[c]) for c in range(3)], -1)
    rr = np.sqrt(cx * cx + cy * cy)
    lin *= (1 + 0.3 * (xx - cx) / rr)[..., None]
    sg = 0.2 * lng
    lin += (0.1 * np.exp(-((xx - 0.3 * (w - 1)) ** 2 + (yy - 0.3 * (h - 1)) ** 2)
                         / (2 * sg * sg)))[..., None]
    fv = rr / np.sqrt(0.75 ** -0.5 - 1)
    lin *= (1 / (1 + (dx * dx + dy * dy) / (fv * fv)) ** 2)[..., None]
    kd, km = disk(0.002 * lng), line(0.006 * lng)
    for c in range(3):
        lin[..., c] = ndimage.convolve(lin[..., c], kd, mode="nearest")
        lin[..., c] = ndimage.convolve(lin[..., c], km, mode="nearest")
    lin = np.clip(lin * 2 ** -0.5, 0, 1)
    rng = np.random.default_rng(0)
    lin = lin + np.sqrt(0.001 * lin + 1e-5) * rng.standard_normal(lin.shape)
    lin = lin @ cast_matrix(4500).T
    enc = encode(lin) ** 1.1
    img = Image.fromarray(np.clip(enc * 255 + 0.5, 0, 255).astype(np.uint8))
    small = img.resize((round(w * 0.6), round(h * 0.6)), Image.LANCZOS)
    img = small.resize((w, h), Image.BICUBIC)
    from io import BytesIO
    buf = BytesIO()
    img.save(buf, "JPEG", quality=60)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def one(args):
    src, dst = args
    out = process(np.asarray(Image.open(src).convert("RGB")))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    out.save(dst)


def main():
    manifest, outdir = sys.argv[1], sys.argv[2]
    jobs = []
    with open(manifest) as f:
        for line_ in f:
            r = json.loads(line_)
            jobs.append((os.path.join(r["root"], r["image"]),
                         os.path.join(outdir, r["image"])))
    with Pool(2) as pool:
        pool.map(one, jobs, chunksize=1)


if __name__ == "__main__":
    main()
