# SPDX-License-Identifier: MIT
"""Print "relative/path mode WxH sha256" of the decoded pixels of every
image below each given tree, sorted by path, so two trees can be compared
whatever their file encodings.  Non-image files are skipped.

usage: convert_pixel_hashes.py DIR
"""
import hashlib
import os
import sys

from PIL import Image

EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def main():
    root = sys.argv[1]
    rows = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if not name.lower().endswith(EXTS):
                continue
            path = os.path.join(dirpath, name)
            with Image.open(path) as im:
                im.load()
                digest = hashlib.sha256(im.tobytes()).hexdigest()
                rows.append("%s %s %dx%d %s" % (
                    os.path.relpath(path, root), im.mode, im.size[0],
                    im.size[1], digest))
    for row in sorted(rows):
        print(row)


if __name__ == "__main__":
    main()
