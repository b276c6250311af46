# SPDX-License-Identifier: MIT
"""Helper of bench_scaling.sh: anomaly maps for the test images of a
manifest (mirad-split's output on standard input), as mirad-eval reads them:
MAPS/<image path without extension>.tiff, float32, the image's size, uniform
noise plus 0.5 inside the mask (so the metrics are neither 0 nor 1).

usage: mirad-split DIR | scaling_maps.py MAPS
"""
import json
import os
import sys

import numpy as np
from PIL import Image


def main(out):
    rng = np.random.default_rng(1)
    for line in sys.stdin:
        r = json.loads(line)
        if r.get("split") != "test":
            continue
        amap = rng.random((r["height"], r["width"]), dtype=np.float32)
        if r.get("mask"):
            m = np.asarray(Image.open(os.path.join(r["root"], r["mask"])))
            if m.ndim == 3:
                m = m.max(axis=2)
            amap += (m > 0) * np.float32(0.5)
        path = os.path.join(out, os.path.splitext(r["image"])[0] + ".tiff")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(amap, mode="F").save(path)


if __name__ == "__main__":
    main(sys.argv[1])
