# SPDX-License-Identifier: MIT
"""What VisA's utils/prepare_data.py does for one split file: byte-copy
every image to <save>/<split>/<cls>/{train,test}/{good,bad}/<name> with
shutil, and binarise each mask it keeps (non-zero -> 255, saved as PNG with
PIL).  1cls keeps masks of test anomalies only, the
2cls splits those of every anomaly under ground_truth/<split>/bad.  The
benchmark's Python contender for mirad-convert --to visa-prepared.

usage: bench_convert_prepare.py VISA_ROOT SPLIT_CSV SAVE_FOLDER
"""
import csv
import os
import shutil
import sys

import numpy as np
from PIL import Image


def main():
    root, split_file, save = sys.argv[1:4]
    split_type = os.path.splitext(os.path.basename(split_file))[0]
    out = os.path.join(save, split_type)
    two_class = split_type.startswith("2cls")
    with open(split_file, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        cls, split = row["object"], row["split"]
        label = "good" if row["label"] == "normal" else "bad"
        img_src = os.path.join(root, row["image"])
        img_dir = os.path.join(out, cls, split, label)
        os.makedirs(img_dir, exist_ok=True)
        shutil.copyfile(img_src, os.path.join(img_dir, os.path.basename(img_src)))
        if label == "bad" and (two_class or split == "test"):
            mask_src = os.path.join(root, row["mask"])
            if two_class:
                mask_dir = os.path.join(out, cls, "ground_truth", split, "bad")
            else:
                mask_dir = os.path.join(out, cls, "ground_truth", "bad")
            os.makedirs(mask_dir, exist_ok=True)
            mask = np.array(Image.open(mask_src))
            mask[mask != 0] = 255
            Image.fromarray(mask).save(
                os.path.join(mask_dir, os.path.basename(mask_src)))


if __name__ == "__main__":
    main()
