#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-convert --resize on PNG sources: an 8-bit PNG is decoded by libpng
# and resized by libvips, anything else (16-bit samples) is loaded by
# libvips; either way the resized pixels depend only on the source
# pixels, and a damaged PNG is reported and skipped.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python numpy PIL
C=$BIN/mirad-convert
HASH="$PY $MIRAD_SRCDIR/tests/cli/convert_pixel_hashes.py"

"$GEN" -o "$T/mir" --scale 0.03 --seed 9 >/dev/null
nimg=$(find "$T/mir" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)

# The same pixels in other encodings: each image saved again by PIL, with
# its own row filters and another zlib level per file.
cp -R "$T/mir" "$T/enc"
"$PY" - "$T/enc" <<'PYEOF'
import os, sys
from PIL import Image
for d, _, files in os.walk(sys.argv[1]):
    for i, f in enumerate(sorted(files)):
        if "ground_truth" in d or not f.endswith(".png"):
            continue
        p = os.path.join(d, f)
        im = Image.open(p)
        im.load()
        im.save(p, compress_level=1 + i % 9, optimize=False)
PYEOF
run "$C" -q --to mvtec --resize 24 -o "$T/a" "$T/mir"
expect_status "--resize 24 on the sample exits 0" 0
run "$C" -q --to mvtec --resize 24 -o "$T/b" "$T/enc"
expect_status "--resize 24 on the re-encoded sample exits 0" 0
$HASH "$T/a" >"$T/h.a"
$HASH "$T/b" >"$T/h.b"
expect_eq "the same pixels otherwise encoded resize alike" "$(cmp -s "$T/h.a" "$T/h.b" && echo same)" "same"
expect_eq "every image is resized to 24x24" "$(awk '$1 !~ /ground_truth/ {print $3}' "$T/h.a" | sort -u)" "24x24"

# 16-bit samples go through libvips' loader: still resized.
cp -R "$T/mir" "$T/deep"
d=$(find "$T/deep" -path '*/train/good/*.png' | sort | head -n 1)
"$PY" -c "
import sys, numpy as np
from PIL import Image
a = np.array(Image.open(sys.argv[1]).convert('L')).astype(np.uint16) * 257
Image.fromarray(a, 'I;16').save(sys.argv[1])
" "$d"
run "$C" -q --to mvtec --resize 24 -o "$T/c" "$T/deep"
expect_status "a 16-bit PNG is resized too (0)" 0
expect_eq "all images written" "$(find "$T/c" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)" "$nimg"

# A flipped byte in the compressed pixels, a cut file: named and skipped.
flip_byte() { # FILE OFFSET: XOR one byte with 0x55
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 85)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
cp -R "$T/mir" "$T/bad"
set -- $(find "$T/bad" -path '*/train/good/*.png' | sort | head -n 2)
flip_byte "$1" $(($(stat -c %s "$1") / 2))
head -c $(($(stat -c %s "$2") / 2)) "$2" >"$T/cut" && cat "$T/cut" >"$2"
run "$C" --to mvtec --resize 24 -o "$T/d" "$T/bad"
expect_status "damaged PNGs make the run exit 1" 1
expect_grep "the bit-flipped PNG is named" "^mirad-convert: $1: truncated or damaged PNG$" "$T/err"
expect_grep "the cut PNG is named" "^mirad-convert: $2: truncated PNG$" "$T/err"
expect_eq "both are skipped, the rest written" "$(find "$T/d" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)" "$((nimg - 2))"

done_testing
