# SPDX-License-Identifier: MIT
# The chain of bench_augment.json in OpenCV (python3 cv2) with NumPy: the
# stronger alternative to mirad-augment, the same steps as bench_augment.py
# but each through OpenCV's optimised kernels (remap, filter2D, transform,
# resize, imencode) in float32, table lookups for the sRGB curves.
# Usage: bench_augment_cv2.py MANIFEST OUTDIR (reads the records' images,
# writes PNGs under OUTDIR at the same paths); exits 3 when cv2 is absent.
import json
import os
import sys
from multiprocessing import Pool

import numpy as np

try:
    import cv2
except ImportError:
    sys.exit(3)

from bench_augment import cast_matrix, disk, line

# sRGB decode of the 256 8-bit levels; the encode and the 1.1 tone curve as
# one 65536-step table (OpenCV has no float LUT beyond 8 bits).
DECODE = np.where(np.arange(256) / 255 <= 0.04045, np.arange(256) / 255 / 12.92,
                  ((np.arange(256) / 255 + 0.055) / 1.055) ** 2.4).astype(np.float32)
_X = np.linspace(0, 1, 65536)
ENCODE = (np.where(_X <= 0.0031308, 12.92 * _X, 1.055 * _X ** (1 / 2.4) - 0.055)
          ** 1.1).astype(np.float32)
CAST = cast_matrix(4500).astype(np.float32)


def process(rgb8):
    h, w = rgb8.shape[:2]
    lng = max(w, h)
    lin = DECODE[rgb8]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    xx = (np.arange(w, dtype=np.float32) - cx)[None, :]
    yy = (np.arange(h, dtype=np.float32) - cy)[:, None]
    r2 = xx * xx + yy * yy
    # Geometry: lens (k1 0.05) then rotation 3 deg, scale 1.02, one remap.
    f = 1 + 0.05 * r2 / (cx * cx + cy * cy)
    px, py = xx * f, yy * f
    th = -np.radians(3)
    ct, st = np.cos(th) / 1.02, np.sin(th) / 1.02
    sx = (cx + ct * px - st * py).astype(np.float32)
    sy = (cy + st * px + ct * py).astype(np.float32)
    border = np.concatenate([lin[:36].reshape(-1, 3), lin[-36:].reshape(-1, 3)]).mean(0)
    lin = cv2.remap(lin, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=tuple(float(b) for b in border))
    # Ramp, vignetting (multiplicative) and glare (additive) as two fields.
    rr = np.sqrt(cx * cx + cy * cy)
    fv = rr / np.sqrt(0.75 ** -0.5 - 1)
    gain = (1 + 0.3 * xx / rr) / (1 + r2 / (fv * fv)) ** 2
    sg = 0.2 * lng
    gx, gy = xx + cx - 0.3 * (w - 1), yy + cy - 0.3 * (h - 1)
    add = 0.1 * np.exp(-(gx * gx + gy * gy) / (2 * sg * sg)) * \
        (1 / (1 + r2 / (fv * fv)) ** 2)
    lin = lin * gain[..., None] + add[..., None]
    kd, km = disk(0.002 * lng), line(0.006 * lng)
    lin = cv2.filter2D(lin, -1, kd.astype(np.float32), borderType=cv2.BORDER_REPLICATE)
    lin = cv2.filter2D(lin, -1, km.astype(np.float32), borderType=cv2.BORDER_REPLICATE)
    lin = np.clip(lin * np.float32(2 ** -0.5), 0, 1)
    noise = np.empty_like(lin)
    cv2.setRNGSeed(0)
    cv2.randn(noise, 0, 1)
    lin += cv2.sqrt(lin * np.float32(0.001) + np.float32(1e-5)) * noise
    lin = cv2.transform(lin, CAST)
    idx = (np.clip(lin, 0, 1) * 65535 + 0.5).astype(np.uint16)
    img = (ENCODE[idx] * 255 + 0.5).astype(np.uint8)
    small = cv2.resize(img, (round(w * 0.6), round(h * 0.6)),
                       interpolation=cv2.INTER_LANCZOS4)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 60])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)  # BGR, as imwrite wants


def one(args):
    src, dst = args
    out = process(cv2.imread(src, cv2.IMREAD_COLOR)[..., ::-1])
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    cv2.imwrite(dst, out)


def init():
    cv2.setNumThreads(1)  # two processes on two cores, like bench_augment.py


def main():
    manifest, outdir = sys.argv[1], sys.argv[2]
    jobs = []
    with open(manifest) as f:
        for line_ in f:
            r = json.loads(line_)
            jobs.append((os.path.join(r["root"], r["image"]),
                         os.path.join(outdir, r["image"])))
    with Pool(2, initializer=init) as pool:
        pool.map(one, jobs, chunksize=max(1, len(jobs) // 64))


if __name__ == "__main__":
    main()
