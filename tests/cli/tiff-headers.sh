#!/bin/sh
# SPDX-License-Identifier: MIT
# The header-only tools (mirad-split, mirad-stats, mirad-fetch) do not link
# libtiff: mirad_codec reaches mirad_codec_tiff through a weak reference,
# and there a TIFF's header comes from libvips (the module mirad-vips.so).
# The sizes and bands in the manifest are those libtiff gave (8-bit grey,
# RGB, 16-bit grey, CMYK), a cut or damaged TIFF is still reported and
# skipped, and a PNG-only tree loads neither libtiff nor libvips.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python PIL
S=$BIN/mirad-split
ST=$BIN/mirad-stats

# links TOOL NAME: whether ldd lists a library matching NAME for TOOL.
links() {
	ldd "$BIN/$1" 2>/dev/null | grep -q "$2"
}
if command -v ldd >/dev/null 2>&1; then
	# The check itself: a tool that links libvips shows libtiff.
	check "ldd shows libtiff for mirad-eval (the float map readers)" \
		links mirad-eval 'libtiff\.so'
	for tool in mirad-split mirad-stats mirad-fetch; do
		if links "$tool" 'libtiff\.so'; then
			not_ok "$tool does not link libtiff"
			ldd "$BIN/$tool" | diag
		else
			ok "$tool does not link libtiff"
		fi
	done
else
	ok "# SKIP ldd not found"
fi

# loaded NAME CMD...: run CMD (status in $rc, output in $T/out) and say
# whether the dynamic loader opened a file matching NAME (its own log).
loaded() {
	_pat=$1; shift
	rm -f "$T"/ld.*
	rc=0
	LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$@" >"$T/out" 2>"$T/err" || rc=$?
	cat "$T"/ld.* 2>/dev/null | grep -q "file=[^ ]*$_pat"
}

"$GEN" -o "$T/d" --scale 0.01 --seed 5 --categories chain_buckle >/dev/null
for pat in 'libtiff\.so' 'libvips\.so' 'mirad-vips\.so'; do
	if loaded "$pat" "$S" "$T/d"; then
		not_ok "a PNG-only tree: mirad-split does not load $pat"
	else
		ok "a PNG-only tree: mirad-split does not load $pat"
	fi
	expect_status "a PNG-only tree: mirad-split exits 0" 0
done
pngs=$(grep -c '"image":' "$T/out")

# TIFFs of every plain kind mirad_codec_tiff described, one cut inside its
# header, one whose first directory lies past the end of the file.
good=$T/d/chain_buckle/train/good
"$PY" - "$good" <<'PY'
import sys
from PIL import Image
d = sys.argv[1]
Image.new("L", (37, 23), 90).save(d + "/tif_grey.tif")
Image.new("RGB", (41, 29), (1, 2, 3)).save(d + "/tif_rgb.tif")
Image.new("RGB", (45, 33), (4, 5, 6)).save(d + "/tif_lzw.tif", compression="tiff_lzw")
Image.new("I;16", (43, 31), 3000).save(d + "/tif_grey16.tif")
Image.new("CMYK", (19, 17), (1, 2, 3, 4)).save(d + "/tif_cmyk.tif")
Image.new("RGB", (47, 35)).save(d + "/tif_cut.tif")
with open(d + "/tif_cut.tif", "r+b") as f:
    f.truncate(12)
Image.new("RGB", (49, 37)).save(d + "/tif_badifd.tif")
with open(d + "/tif_badifd.tif", "r+b") as f:
    f.seek(4)
    f.write((0x7FFFFFF0).to_bytes(4, "little"))
PY

run "$S" "$T/d"
expect_status "mirad-split reports the cut and the damaged TIFF and exits 1" 1
for t in "grey 37 23 1" "rgb 41 29 3" "lzw 45 33 3" "grey16 43 31 1" \
	"cmyk 19 17 3"; do
	# shellcheck disable=SC2086
	set -- $t
	expect_grep "the $1 TIFF is ${2}x$3 with $4 channels" \
		"tif_$1\\.tif\".*\"width\":$2,\"height\":$3,\"channels\":$4}" "$T/out"
done
expect_grep "the cut TIFF is reported as damaged, as libtiff said" \
	'tif_cut\.tif: unreadable image: damaged TIFF$' "$T/err"
expect_grep "the damaged TIFF is reported as damaged" \
	'tif_badifd\.tif: unreadable image: damaged TIFF$' "$T/err"
expect_no_grep "the cut and the damaged TIFF are not listed" \
	'tif_(cut|badifd)\.tif' "$T/out"
expect_eq "every PNG and the five good TIFFs are listed" \
	"$(grep -c '"image":' "$T/out")" "$((pngs + 5))"

run "$ST" --check-sizes "$T/d"
expect_grep "mirad-stats --check-sizes reports the cut TIFF" 'tif_cut\.tif: ' "$T/err"
expect_grep "mirad-stats --check-sizes reports the damaged TIFF" 'tif_badifd\.tif: ' "$T/err"

done_testing
