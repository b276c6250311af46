# SPDX-License-Identifier: MIT
"""The PIL equivalent of mirad-convert --to mvtec --resize N on a MIRAD
tree: every image resized to N x N with an antialiasing filter (LANCZOS)
and saved as PNG, every mask resized with NEAREST, thresholded to 0/255 and
saved as single-band PNG, numbered per folder as the MVTec layout wants.
The benchmark's Python contender.

usage: bench_convert_resize.py MIRAD_ROOT OUT N
"""
import os
import sys

import numpy as np
from PIL import Image


def main():
    root, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for cat in sorted(os.listdir(root)):
        cdir = os.path.join(root, cat)
        if not os.path.isdir(cdir):
            continue
        for split in ("train", "test"):
            sdir = os.path.join(cdir, split)
            for label in sorted(os.listdir(sdir)):
                names = sorted(os.listdir(os.path.join(sdir, label)))
                odir = os.path.join(out, cat, split, label)
                os.makedirs(odir, exist_ok=True)
                for i, name in enumerate(names):
                    im = Image.open(os.path.join(sdir, label, name))
                    im.resize((n, n), Image.LANCZOS).save(
                        os.path.join(odir, "%03d.png" % i))
                    if label == "good":
                        continue
                    stem = os.path.splitext(name)[0]
                    mdir = os.path.join(out, cat, "ground_truth", label)
                    os.makedirs(mdir, exist_ok=True)
                    m = Image.open(os.path.join(cdir, "ground_truth", label,
                                                stem + "_mask.png"))
                    a = np.array(m.convert("L").resize((n, n), Image.NEAREST))
                    a[a != 0] = 255
                    Image.fromarray(a).save(
                        os.path.join(mdir, "%03d_mask.png" % i))


if __name__ == "__main__":
    main()
