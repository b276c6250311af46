#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile inputs for tests/cli/safety-inputs.sh.

  make_hostile_inputs.py make DIR      into the image folder DIR: a CMYK
      JPEG of pure red (32x32), a JPEG named .png (green, 40x40), a BMP,
      a truncated PNG and an empty file whose names hold a newline and ESC
  make_hostile_inputs.py check TREE    the 32x32 and 40x40 images of TREE
      (a tool's output) are RGB or grey, red and green, and every file's
      bytes are the format its extension names; prints one line per
      problem, exits 1 if any
"""
import io
import os
import sys

from PIL import Image

MAGIC = {".png": b"\x89PNG", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff",
         ".tif": (b"II*\x00", b"MM\x00*"), ".tiff": (b"II*\x00", b"MM\x00*")}


def make(d):
    # PIL writes CMYK JPEGs with an Adobe marker (inverted values), like
    # the files Photoshop and print workflows produce.
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(os.path.join(d, "cmyk.jpg"), quality=95)
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 200, 0)).save(buf, "JPEG", quality=95)
    with open(os.path.join(d, "jpeg_named.png"), "wb") as f:
        f.write(buf.getvalue())
    Image.new("RGB", (24, 24), (0, 0, 200)).save(os.path.join(d, "bitmap.bmp"))
    png = io.BytesIO()
    Image.new("RGB", (16, 16), (9, 9, 9)).save(png, "PNG")
    with open(os.path.join(d, "evil\nname\x1b[31m.png"), "wb") as f:
        f.write(png.getvalue()[:-20])
    open(os.path.join(d, "empty\x1b[2J\n.png"), "wb").close()


def check(tree):
    problems = []
    seen = {32: 0, 40: 0}
    for dirpath, _, files in os.walk(tree):
        for name in files:
            path = os.path.join(dirpath, name)
            ext = os.path.splitext(name)[1].lower()
            if ext not in MAGIC:
                continue
            with open(path, "rb") as f:
                head = f.read(4)
            magic = MAGIC[ext]
            if not head.startswith(magic if isinstance(magic, tuple) else (magic,)):
                problems.append("%s: bytes are not %s" % (path, ext))
                continue
            im = Image.open(path)
            if im.size[0] not in seen or im.size[0] != im.size[1]:
                continue
            seen[im.size[0]] += 1
            if im.mode not in ("RGB", "L"):
                problems.append("%s: mode %s" % (path, im.mode))
                continue
            r, g, b = [sum(band.getdata()) / (im.size[0] ** 2) for band in im.convert("RGB").split()]
            want = "red" if im.size[0] == 32 else "green"
            got = "red" if r > g + 40 and r > b + 40 else \
                "green" if g > r + 40 and g > b + 40 else "%d,%d,%d" % (r, g, b)
            if got != want:
                problems.append("%s: %s, expected %s" % (path, got, want))
    for size, n in seen.items():
        if n == 0:
            problems.append("no %dx%d image in the output" % (size, size))
    for p in problems:
        print(p)
    return 1 if problems else 0


if sys.argv[1] == "make":
    make(sys.argv[2])
    sys.exit(0)
sys.exit(check(sys.argv[2]))
