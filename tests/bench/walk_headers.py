#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The obvious alternative to `mirad-stats DIR` (counts only): os.walk the
tree and read every image and mask header with PIL (Image.open does not
decode pixels), then count train / test normal / test abnormal per category.
"""
import collections
import os
import sys

from PIL import Image

EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def main(root):
    counts = collections.defaultdict(lambda: [0, 0, 0])
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root).split(os.sep)
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(EXTS):
                continue
            with Image.open(os.path.join(dirpath, name)) as im:
                im.size  # header only
            if len(rel) != 3:
                continue
            cat, split, label = rel
            if split == "train" and label == "good":
                counts[cat][0] += 1
            elif split == "test":
                counts[cat][1 if label == "good" else 2] += 1
    for cat in sorted(counts):
        print(cat, *counts[cat])


if __name__ == "__main__":
    main(sys.argv[1])
