# SPDX-License-Identifier: MIT
# Pixel checks for tests/cli/mirad-augment.sh (Debian's python3 with PIL
# and numpy).  Each sub-command prints one line the test compares.
import json
import sys

import numpy as np
from PIL import Image


def load(path):
    return np.asarray(Image.open(path))


def records(manifest):
    with open(manifest) as f:
        return [json.loads(line) for line in f if line.strip()]


def same_pixels(src_root, manifest):
    """'same N' when every output equals its source image, pixel for pixel."""
    n = bad = 0
    for r in records(manifest):
        a = load(f"{src_root}/{r['image']}")
        b = load(f"{r['root']}/{r['image']}")
        n += 1
        if a.shape != b.shape or not np.array_equal(a, b):
            bad += 1
    print(f"same {n - bad}/{n}")


def masks_binary(manifest):
    """'binary N/M': masks with values in {0,255} and the image's size."""
    n = good = 0
    for r in records(manifest):
        if not r.get("mask"):
            continue
        m = load(f"{r['root']}/{r['mask']}")
        im = load(f"{r['root']}/{r['image']}")
        n += 1
        if set(np.unique(m)) <= {0, 255} and m.shape[:2] == im.shape[:2]:
            good += 1
    print(f"binary {good}/{n}")


def changed_masks(manifest):
    """'changed N/M': masks that differ from their source masks."""
    n = changed = 0
    for r in records(manifest):
        if not r.get("mask"):
            continue
        src = r["source_image"][: -len(r["image"])]
        a = load(f"{src}/{r['mask']}")
        b = load(f"{r['root']}/{r['mask']}")
        n += 1
        changed += a.shape != b.shape or not np.array_equal(a, b)
    print(f"changed {changed}/{n}")


def severity_curve(src_root, manifest):
    """'increasing' when the mean absolute difference from the source grows
    from severity 1 to 5; prints the five means either way."""
    sums = {}
    for r in records(manifest):
        a = load(f"{src_root}/{r['image']}").astype(np.float64)
        b = load(f"{r['root']}/{r['image']}").astype(np.float64)
        s = r["severity"]
        sums.setdefault(s, []).append(np.abs(a - b).mean())
    means = [float(np.mean(sums[s])) for s in sorted(sums)]
    ok = len(means) == 5 and all(x < y for x, y in zip(means, means[1:]))
    print(("increasing" if ok else "NOT increasing") + " " +
          " ".join(f"{m:.2f}" for m in means))


def key_hashes(manifest):
    """Sorted 'image variant pixel mask' lines: what shards must agree on."""
    rows = sorted(f"{r['image']} {r['variant']} {r['pixel_sha256']} "
                  f"{r.get('mask_sha256', '-')} {json.dumps(r['augment'])}"
                  for r in records(manifest))
    print("\n".join(rows))


cmd = sys.argv[1]
if cmd == "same":
    same_pixels(sys.argv[2], sys.argv[3])
elif cmd == "binary":
    masks_binary(sys.argv[2])
elif cmd == "changed":
    changed_masks(sys.argv[2])
elif cmd == "severity":
    severity_curve(sys.argv[2], sys.argv[3])
elif cmd == "keys":
    key_hashes(sys.argv[2])
else:
    sys.exit(f"unknown command {cmd}")
