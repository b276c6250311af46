# SPDX-License-Identifier: MIT
"""Write a small MVTec-layout tree with the inputs users get wrong, for
mirad-convert's tests:

  odd/train/good/000.png, 001.png             normal RGB images
  odd/test/good/000.png                        normal
  odd/test/zeroone/000.png  + mask 000_mask.png    mask values 0/1
  odd/test/palette/000.png  + mask 000_mask.png    palette (P) mask
  odd/test/rgb/000.png      + mask 000_mask.png    RGB mask, red defect
  odd/test/onebit/000.png   + mask 000_mask.png    1-bit PNG mask
  odd/test/upper/000.PNG    + mask 000_mask.PNG    upper-case extensions
  odd/test/trunc/000.png    + mask 000_mask.png    image cut in half
  odd/test/wrongsize/000.png + mask 000_mask.png   mask 32x32, image 48x40
  hidden files: odd/train/good/.DS_Store, odd/test/rgb/._000.png,
  odd/test/.ipynb_checkpoints/ (a folder), odd/Thumbs.db

Every defect mask has DEFECT_PIXELS non-zero pixels.  Prints nothing.

usage: convert_odd_masks.py DIR
"""
import os
import sys

import numpy as np
from PIL import Image

W, H = 48, 40
DEFECT_PIXELS = 6 * 5


def image(seed):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))


def mask_array(value):
    a = np.zeros((H, W), dtype=np.uint8)
    a[10:15, 20:26] = value
    return a


def save(im, root, rel):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im.save(path, format="PNG")
    return path


def main():
    root = os.path.join(sys.argv[1], "odd")
    save(image(1), root, "train/good/000.png")
    save(image(2), root, "train/good/001.png")
    save(image(3), root, "test/good/000.png")

    save(image(4), root, "test/zeroone/000.png")
    save(Image.fromarray(mask_array(1)), root,
         "ground_truth/zeroone/000_mask.png")

    save(image(5), root, "test/palette/000.png")
    pal = Image.fromarray(mask_array(1)).convert("P")
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    pal = Image.fromarray(mask_array(1), mode="L").convert("P")
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0, 0, 0] * 254)
    save(pal, root, "ground_truth/palette/000_mask.png")

    save(image(6), root, "test/rgb/000.png")
    rgb = np.zeros((H, W, 3), dtype=np.uint8)
    rgb[..., 0] = mask_array(255)
    save(Image.fromarray(rgb), root, "ground_truth/rgb/000_mask.png")

    save(image(12), root, "test/onebit/000.png")
    save(Image.fromarray(mask_array(255)).convert("1"), root,
         "ground_truth/onebit/000_mask.png")

    save(image(7), root, "test/upper/000.PNG")
    save(Image.fromarray(mask_array(255)), root,
         "ground_truth/upper/000_mask.PNG")

    trunc = save(image(8), root, "test/trunc/000.png")
    with open(trunc, "rb") as f:
        data = f.read()
    with open(trunc, "wb") as f:
        f.write(data[: len(data) // 2])
    save(Image.fromarray(mask_array(255)), root,
         "ground_truth/trunc/000_mask.png")

    save(image(9), root, "test/wrongsize/000.png")
    save(Image.fromarray(np.zeros((32, 32), dtype=np.uint8) + 255), root,
         "ground_truth/wrongsize/000_mask.png")

    for rel in ("train/good/.DS_Store", "Thumbs.db"):
        with open(os.path.join(root, rel), "wb") as f:
            f.write(b"junk")
    save(image(10), root, "test/rgb/._000.png")
    save(image(11), root, "test/.ipynb_checkpoints/000.png")


if __name__ == "__main__":
    main()
