#!/bin/sh
# SPDX-License-Identifier: MIT
# The tools that read headers only start without libvips: mirad-split,
# mirad-fetch and mirad-stats (counts, --check-sizes) do not link it, and
# load it (the module mirad-vips.so) only for a header mirad_codec does not
# describe; mirad-stats' pixel modes load mirad-stats-pixels.so.  What the
# dynamic loader opens is read from its own log (LD_DEBUG=files), so a
# libvips loaded by any path fails these checks.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python PIL numpy
S=$BIN/mirad-split
ST=$BIN/mirad-stats

# loaded NAME CMD...: run CMD (status in $rc, output in $T/out) with the
# loader's log in $T/ld.*, and say whether a file matching NAME was opened.
loaded() {
	_pat=$1; shift
	rm -f "$T"/ld.*
	rc=0
	LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$@" >"$T/out" 2>"$T/err" || rc=$?
	cat "$T"/ld.* 2>/dev/null | grep -q "file=[^ ]*$_pat"
}

"$GEN" -o "$T/d" --scale 0.02 --seed 3 >/dev/null

# The check itself: a tool that links libvips shows it in the log.
if loaded 'libvips\.so' "$BIN/mirad-convert" --version; then
	ok "the loader's log shows libvips for a tool that links it"
else
	not_ok "the loader's log shows libvips for a tool that links it"
fi

for args in "mirad-split DIR" "mirad-split --version" "mirad-split --help" \
	"mirad-stats DIR" "mirad-stats --check-sizes DIR" "mirad-stats --version" \
	"mirad-fetch --version" "mirad-fetch --help"; do
	# shellcheck disable=SC2086
	set -- $args
	tool=$1; shift
	[ "$*" = DIR ] && set -- "$T/d"
	[ "$*" = "--check-sizes DIR" ] && set -- --check-sizes "$T/d"
	if loaded 'libvips\.so' "$BIN/$tool" "$@"; then
		not_ok "$args: libvips is not loaded"
	else
		ok "$args: libvips is not loaded"
	fi
	expect_status "$args: exit 0" 0
done
run "$S" --version
expect_grep "mirad-split --version still names libvips" "^libvips [0-9]+\\.[0-9]+" "$T/out"

# A float TIFF: mirad_codec does not describe it, libvips does.
"$PY" - "$T/d" <<'PY'
import glob, sys
import numpy as np
from PIL import Image
good = sorted(glob.glob(sys.argv[1] + "/*/train/good/*.png"))[0]
Image.fromarray(np.full((23, 37), 0.5, dtype=np.float32)).save(good[:-4] + "_float.tif")
PY
if loaded 'mirad-vips\.so' "$S" "$T/d"; then
	ok "a float TIFF's header loads mirad-vips.so"
else
	not_ok "a float TIFF's header loads mirad-vips.so"
fi
expect_status "mirad-split reads the tree with the float TIFF" 0
expect_grep "the float TIFF's size comes from libvips" \
	'_float\.tif".*"width":37,"height":23' "$T/out"
run "$ST" --check-sizes "$T/d"
expect_status "mirad-stats --check-sizes reads the float TIFF" 0

# Without the module the header is reported, not guessed.
mkdir "$T/empty"
rc=0
MIRAD_MODULE_DIR=$T/empty $RUN "$S" "$T/d" >"$T/out" 2>"$T/err" || rc=$?
expect_status "without mirad-vips.so the float TIFF is a bad input" 1
expect_grep "the message says libvips could not be loaded" \
	'_float\.tif: unreadable image: cannot load libvips' "$T/err"
expect_eq "every other image is still described" \
	"$(grep -c '"image":' "$T/out")" "$(( $("$S" --no-sizes "$T/d" | grep -c '"image":') - 1 ))"

# The pixel modes load their module (and libvips with it).
rm -f "$T/d"/*/train/good/*_float.tif
if loaded 'mirad-stats-pixels\.so' "$ST" --imaging "$T/d"; then
	ok "mirad-stats --imaging loads mirad-stats-pixels.so"
else
	not_ok "mirad-stats --imaging loads mirad-stats-pixels.so"
fi
expect_status "mirad-stats --imaging succeeds" 0
rc=0
MIRAD_MODULE_DIR=$T/empty $RUN "$ST" --imaging "$T/d" >"$T/out" 2>"$T/err" || rc=$?
expect_status "without its module mirad-stats --imaging fails (fatal)" 3
expect_grep "and says libvips could not be loaded" "^mirad-stats: cannot load libvips" "$T/err"

done_testing
