#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Python equivalent of two mirad-split runs, for tests/bench/bench_split.sh.

  split_equiv.py scan DIR            the native split of a MIRAD tree as JSON
                                     Lines (os.walk + PIL header reads)
  split_equiv.py shots K VAL SEED    a manifest on stdin -> --val VAL --shots K
                                     --seed SEED, same keyed SHA-256 choice
  split_equiv.py make N              a synthetic N-record manifest on stdout
"""
import collections
import hashlib
import json
import math
import os
import sys

from PIL import Image


def key(seed, purpose, path):
    text = f"{seed}:{purpose}:{path}" if purpose else f"{seed}:{path}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def scan(root):
    root = os.path.abspath(root)
    out = sys.stdout
    for cat in sorted(os.listdir(root)):
        cdir = os.path.join(root, cat)
        if not os.path.isdir(cdir) or cat.startswith("."):
            continue
        recs = []
        for split in ("train", "test"):
            sdir = os.path.join(cdir, split)
            for defect in sorted(os.listdir(sdir)):
                for name in sorted(os.listdir(os.path.join(sdir, defect))):
                    if not name.endswith(".png"):
                        continue
                    image = f"{cat}/{split}/{defect}/{name}"
                    anomaly = defect != "good"
                    mask = None
                    if anomaly:
                        mask = f"{cat}/ground_truth/{defect}/{name[:-4]}_mask.png"
                        if not os.path.exists(os.path.join(root, mask)):
                            mask = None
                    with Image.open(os.path.join(root, image)) as im:
                        w, h = im.size
                        ch = len(im.getbands())
                    recs.append({"category": cat, "split": split,
                                 "label": "anomaly" if anomaly else "normal",
                                 "defect": defect, "image": image, "mask": mask,
                                 "root": root, "width": w, "height": h,
                                 "channels": ch})
        recs.sort(key=lambda r: (r["split"], r["defect"], r["image"]))
        for r in recs:
            out.write(json.dumps(r, separators=(",", ":")) + "\n")


def shots(k, val, seed):
    recs = []
    for line in sys.stdin:
        r = json.loads(line)
        if "mirad_manifest" not in r:
            recs.append(r)
    pool = collections.defaultdict(list)
    for r in recs:
        if r["split"] == "train" and r["label"] == "normal":
            pool[r["category"]].append(r)
    keep = set()
    for cat, rs in pool.items():
        rs.sort(key=lambda r: (key(seed, "val", r["image"]), r["image"]))
        nval = max(1, math.floor(val * len(rs) + 0.5))
        for r in rs[:nval]:
            r["split"] = "val"
        rest = sorted(rs[nval:], key=lambda r: (key(seed, None, r["image"]), r["image"]))
        keep.update(id(r) for r in rest[:k])
    out = sys.stdout
    out.write(json.dumps({"mirad_manifest": 1, "seed": seed}) + "\n")
    for r in recs:
        if r["split"] == "train" and r["label"] == "normal" and id(r) not in keep:
            continue
        out.write(json.dumps(r, separators=(",", ":")) + "\n")


def make(n):
    cats = 100
    out = sys.stdout
    for i in range(n):
        cat = f"cat{i % cats:03d}"
        j = i // cats
        if j % 10 < 6:
            split, label, defect, d = "train", "normal", "good", "train/good"
        elif j % 10 < 8:
            split, label, defect, d = "test", "normal", "good", "test/good"
        else:
            split, label, defect, d = "test", "anomaly", "anomaly", "test/anomaly"
        image = f"{cat}/{d}/{j:05d}.png"
        mask = f"{cat}/ground_truth/anomaly/{j:05d}_mask.png" if label == "anomaly" else None
        out.write(json.dumps({"category": cat, "split": split, "label": label,
                              "defect": defect, "image": image, "mask": mask,
                              "root": "/data/big", "width": 256, "height": 256,
                              "channels": 3}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "scan":
        scan(sys.argv[2])
    elif sys.argv[1] == "shots":
        shots(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "make":
        make(int(sys.argv[2]))
