#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Put hostile and unusual image files into a MIRAD-shaped tree:
truncated PNG and JPEG, a zero-byte file, 1x1, a PNG declaring 20000x20000
pixels, 16-bit, CMYK JPEG and palette PNG; anomalies whose masks are
zero bytes, declare 20000x20000, are 16-bit or palette; and good test
images whose anomaly maps (written by the maps mode) are the bad ones.

  make_bad_images.py DIR CAT          the images, into DIR/CAT
  make_bad_images.py maps DIR MAPS    an 8-bit PNG map of each test image
                                      of DIR under MAPS/<cat>/test/<folder>/,
                                      bad ones for the map_* images
"""
import os
import struct
import sys
import zlib

from PIL import Image


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def huge_png(path, colour_type):
    """A PNG header that declares 20000 x 20000 pixels, with almost no
    data."""
    data = (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8,
                                       colour_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) +
            chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


def truncate_half(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def write_maps(root, maps):
    for dirpath, _, files in sorted(os.walk(root)):
        rel = os.path.relpath(dirpath, root).split(os.sep)
        if len(rel) != 3 or rel[1] != "test":
            continue
        cat, folder = rel[0], rel[2]
        out = os.path.join(maps, cat, "test", folder)
        os.makedirs(out, exist_ok=True)
        for name in sorted(files):
            stem = os.path.splitext(name)[0]
            base = os.path.join(out, stem)
            try:
                size = Image.open(os.path.join(dirpath, name)).size
            except Exception:  # the unreadable test images
                size = (64, 48)
            gradient = Image.linear_gradient("L").resize(size)
            if stem == "map_truncated":
                gradient.save(base + ".png")
                truncate_half(base + ".png")
            elif stem == "map_empty":
                open(base + ".png", "wb").close()
            elif stem == "map_huge":
                huge_png(base + ".png", 0)
            elif stem == "map_16bit":
                Image.new("I;16", size, 30000).save(base + ".png")
            elif stem == "map_palette":
                gradient.convert("RGB").convert("P").save(base + ".png")
            elif stem == "map_cmyk":
                Image.new("CMYK", size, (1, 2, 3, 4)).save(base + ".tiff")
            elif stem == "map_1x1":
                Image.new("L", (1, 1), 200).save(base + ".png")
            else:
                gradient.save(base + ".png")


if sys.argv[1] == "maps":
    write_maps(sys.argv[2], sys.argv[3])
    sys.exit(0)

root, cat = sys.argv[1], sys.argv[2]
train = os.path.join(root, cat, "train", "good")
test = os.path.join(root, cat, "test", "anomaly")
gt = os.path.join(root, cat, "ground_truth", "anomaly")
for d in (train, test, gt):
    os.makedirs(d, exist_ok=True)

good = os.path.join(root, cat, "test", "good")
os.makedirs(good, exist_ok=True)

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
huge_png(os.path.join(train, "bad_huge.png"), 2)
# An anomaly whose image and mask are truncated.
base.save(os.path.join(test, "bad_anomaly.png"))
Image.new("L", (64, 48), 0).save(os.path.join(gt, "bad_anomaly_mask.png"))
for p in (os.path.join(test, "bad_anomaly.png"),
          os.path.join(gt, "bad_anomaly_mask.png")):
    truncate_half(p)
# Anomalies with odd masks: zero bytes, 20000x20000 declared, 16-bit and
# palette (the last two are valid masks).
defect = Image.new("L", (64, 48), 0)
defect.paste(255, (10, 10, 30, 25))
for stem in ("badmask_empty", "badmask_huge", "mask16", "maskpal"):
    base.save(os.path.join(test, stem + ".png"))
    mask = os.path.join(gt, stem + "_mask.png")
    if stem == "badmask_empty":
        open(mask, "wb").close()
    elif stem == "badmask_huge":
        huge_png(mask, 0)
    elif stem == "mask16":
        defect.point(lambda v: v * 257, "I").convert("I;16").save(mask)
    else:
        defect.convert("P").save(mask)
# Good test images whose anomaly maps are the bad ones (maps mode).
for stem in ("map_truncated", "map_empty", "map_huge", "map_16bit",
             "map_palette", "map_cmyk", "map_1x1"):
    base.save(os.path.join(good, stem + ".png"))
