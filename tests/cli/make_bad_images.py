#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Put hostile and unusual image files into a MIRAD-shaped tree:
truncated PNG and JPEG, a zero-byte file, 1x1, a PNG declaring 20000x20000
pixels, 16-bit, CMYK JPEG and palette PNG.  Usage: make_bad_images.py DIR CAT
"""
import os
import struct
import sys
import zlib

from PIL import Image

root, cat = sys.argv[1], sys.argv[2]
train = os.path.join(root, cat, "train", "good")
test = os.path.join(root, cat, "test", "anomaly")
gt = os.path.join(root, cat, "ground_truth", "anomaly")
for d in (train, test, gt):
    os.makedirs(d, exist_ok=True)


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


base = Image.new("RGB", (64, 48), (90, 120, 150))
base.save(os.path.join(train, "bad_truncated.png"))
with open(os.path.join(train, "bad_truncated.png"), "r+b") as f:
    f.truncate(os.path.getsize(f.name) // 2)
base.save(os.path.join(train, "bad_truncated.jpg"), quality=90)
with open(os.path.join(train, "bad_truncated.jpg"), "r+b") as f:
    f.truncate(os.path.getsize(f.name) // 2)
open(os.path.join(train, "bad_empty.png"), "wb").close()
Image.new("RGB", (1, 1), (1, 2, 3)).save(os.path.join(train, "odd_1x1.png"))
Image.new("I;16", (40, 30), 40000).save(os.path.join(train, "odd_16bit.png"))
Image.new("CMYK", (40, 30), (10, 20, 30, 40)).save(
    os.path.join(train, "odd_cmyk.jpg"))
Image.new("RGB", (40, 30), (200, 10, 10)).convert("P").save(
    os.path.join(train, "odd_palette.png"))
# A header that declares 20000 x 20000 RGB pixels, with almost no data.
huge = (b"\x89PNG\r\n\x1a\n" +
        chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)) +
        chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
with open(os.path.join(train, "bad_huge.png"), "wb") as f:
    f.write(huge)
# An anomaly whose image and mask are truncated.
base.save(os.path.join(test, "bad_anomaly.png"))
Image.new("L", (64, 48), 0).save(os.path.join(gt, "bad_anomaly_mask.png"))
for p in (os.path.join(test, "bad_anomaly.png"),
          os.path.join(gt, "bad_anomaly_mask.png")):
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) // 2)
