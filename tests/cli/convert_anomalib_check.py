# SPDX-License-Identifier: MIT
"""Apply anomalib's MVTecAD discovery rules (make_mvtec_ad_dataset in
anomalib's src/anomalib/data/datasets/image/mvtecad.py) to an MVTec-layout
tree, and check that every anomalous test
image is paired with its own mask, as the converter's manifest says.

Rules reproduced: a recursive listing of <root>/<category> filtered by the
suffixes ".png"/".PNG" (case-sensitive), only the last three path parts
(split, label, file) used, label "good" normal and anything else abnormal,
ground-truth rows sorted by path and assigned by position to the sorted
abnormal test rows, then the check that the image stem is a substring of
the mask stem.  Also checks each mask is 8-bit single-channel, exactly
{0,255} and the size of its image.

usage: convert_anomalib_check.py ROOT MANIFEST
Prints "categories N images N pairs N" and exits 0, or prints the first
mismatch and exits 1.
"""
import json
import os
import sys

import numpy as np
from PIL import Image


def fail(msg):
    print("MISMATCH: " + msg)
    sys.exit(1)


def discover(root, category):
    base = os.path.join(root, category)
    samples = []
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            if os.path.splitext(name)[1] not in (".png", ".PNG"):
                continue
            parts = os.path.join(dirpath, name).split(os.sep)
            split, label, fname = parts[-3:]
            samples.append((split, label,
                            "/".join([base, split, label, fname])))
    masks = sorted(s[2] for s in samples if s[0] == "ground_truth")
    images = sorted((s for s in samples if s[0] != "ground_truth"),
                    key=lambda s: s[2])
    abnormal = [s for s in images if s[0] == "test" and s[1] != "good"]
    for s in images:
        if s[0] == "train" and s[1] != "good":
            fail("anomalous training image " + s[2])
    if len(abnormal) != len(masks):
        fail("%s: %d abnormal test images, %d masks"
             % (category, len(abnormal), len(masks)))
    pairs = list(zip((s[2] for s in abnormal), masks))
    for img, msk in pairs:
        stem = os.path.splitext(os.path.basename(img))[0]
        mstem = os.path.splitext(os.path.basename(msk))[0]
        if stem not in mstem:
            fail("image %s paired with mask %s" % (img, msk))
    return images, pairs


def main():
    root = os.path.abspath(sys.argv[1])
    expected = {}
    with open(sys.argv[2]) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("mask"):
                expected[os.path.join(root, rec["image"])] = \
                    os.path.join(root, rec["mask"])
    categories = sorted(d for d in os.listdir(root)
                        if os.path.isdir(os.path.join(root, d)))
    nimages = npairs = 0
    for cat in categories:
        images, pairs = discover(root, cat)
        nimages += len(images)
        for img, msk in pairs:
            if expected.get(img) != msk:
                fail("%s: anomalib pairs %s, manifest says %s"
                     % (img, msk, expected.get(img)))
            with Image.open(msk) as m, Image.open(img) as i:
                values = set(np.unique(np.asarray(m)).tolist())
                if m.mode != "L" or not values <= {0, 255} \
                        or m.size != i.size:
                    fail("%s: mode %s values %s size %s (image %s)"
                         % (msk, m.mode, sorted(values), m.size, i.size))
            npairs += 1
    if npairs != len(expected):
        fail("%d pairs found, manifest has %d masks"
             % (npairs, len(expected)))
    print("categories %d images %d pairs %d"
          % (len(categories), nimages, npairs))


if __name__ == "__main__":
    main()
