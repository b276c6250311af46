#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Helper of bench_eval.sh.

  data DIR N SIZE SEED  write DIR/ds (an MVTec-layout ground truth: one
                        category, N test images of SIZE x SIZE, 60 %
                        anomalous with elliptic defects) and DIR/maps
                        (float32 TIFF anomaly maps)
  python DIR LIMIT      the Python way: read every map and mask, then
                        sklearn roc_auc_score (P-AUROC) and the NumPy
                        restatement of the MVTec AU-PRO used by the tests;
                        prints JSON with the values and the timings
"""
import json
import os
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "cli"))
import eval_reference  # noqa: E402


def data(d, n, size, seed):
    n, size = int(n), int(size)
    rng = np.random.default_rng(int(seed))
    cat = os.path.join(d, "ds", "widget")
    yy, xx = np.mgrid[0:size, 0:size]
    os.makedirs(os.path.join(cat, "train", "good"), exist_ok=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(
        os.path.join(cat, "train", "good", "000.png"))
    for i in range(n):
        anomalous = rng.random() < 0.6
        folder = "defect" if anomalous else "good"
        mask = np.zeros((size, size), dtype=bool)
        if anomalous:
            for _ in range(rng.integers(1, 4)):
                cy, cx = rng.uniform(0, size, 2)
                ry, rx = rng.uniform(4, size / 8, 2)
                mask |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        for sub in ("test", "ground_truth"):
            os.makedirs(os.path.join(cat, sub, folder), exist_ok=True)
        stem = "%04d" % i
        Image.fromarray(np.zeros((size, size), np.uint8)).save(
            os.path.join(cat, "test", folder, stem + ".png"))
        if anomalous:
            Image.fromarray(mask.astype(np.uint8) * 255).save(
                os.path.join(cat, "ground_truth", folder, stem + "_mask.png"))
        noise = rng.random((size, size), dtype=np.float32)
        amap = noise + mask * np.float32(rng.uniform(0.1, 0.8))
        md = os.path.join(d, "maps", "widget", "test", folder)
        os.makedirs(md, exist_ok=True)
        Image.fromarray(amap.astype(np.float32), mode="F").save(
            os.path.join(md, stem + ".tiff"))


def python(d, limit):
    from sklearn.metrics import roc_auc_score
    t0 = time.time()
    ds, maps = os.path.join(d, "ds"), os.path.join(d, "maps")
    scores, gts = [], []
    for cat, folder, stem, mask, image in eval_reference.test_images(ds):
        gts.append(eval_reference.read_mask(mask, image))
        scores.append(eval_reference.read_map(maps, cat, folder, stem))
    t1 = time.time()
    auroc = roc_auc_score(np.concatenate([g.ravel() for g in gts]),
                          np.concatenate([s.ravel() for s in scores]))
    t2 = time.time()
    aupro = eval_reference.au_pro(scores, gts, float(limit), True)
    t3 = time.time()
    json.dump({"p-auroc": auroc, "aupro": aupro, "read_s": t1 - t0,
               "auroc_s": t2 - t1, "aupro_s": t3 - t2}, sys.stdout)
    print()


if __name__ == "__main__":
    if sys.argv[1] == "data":
        data(*sys.argv[2:6])
    elif sys.argv[1] == "python":
        python(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
