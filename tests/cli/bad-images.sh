#!/bin/sh
# SPDX-License-Identifier: MIT
# Hostile and unusual images (truncated PNG/JPEG, zero bytes, 1x1, a header
# declaring 20000x20000, 16-bit, CMYK, palette): every tool handles them or
# reports them by path and goes on; none crashes.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

"$GEN" -o "$T/ds" --scale 0.01 --seed 2 --categories chain_buckle,rabbit_pendant
"$PY" "$MIRAD_SRCDIR/tests/cli/make_bad_images.py" "$T/ds" chain_buckle

# no_crash DESC: the last run ended by itself with 0 or 1 (not a signal,
# not a sanitizer report, not a fatal error).
no_crash() {
	if [ "$rc" -le 1 ]; then ok "$1 (status $rc)"; else
		not_ok "$1 (status $rc)"; diag "$T/err"; fi
}

run "$BIN/mirad-split" "$T/ds"
no_crash "mirad-split goes on"
# split reads headers only: a file cut after its header is listed, and
# the tools that decode pixels report it (below).
expect_grep "mirad-split names the empty file" "bad_empty.png" "$T/err"
expect_eq "mirad-split lists the readable odd images" \
	"$(grep -c 'odd_' "$T/out")" 4
cp "$T/out" "$T/m.jsonl"

run "$BIN/mirad-stats" "$T/ds"
expect_status "mirad-stats counts from entries" 0
run "$BIN/mirad-stats" --all "$T/ds"
no_crash "mirad-stats --all goes on"
expect_grep "mirad-stats --all names the truncated JPEG" "bad_truncated.jpg" "$T/err"
expect_grep "mirad-stats --all names the huge image" "bad_huge.png" "$T/err"

run "$BIN/mirad-augment" -q --profile node4 -o "$T/aug" "$T/ds"
no_crash "mirad-augment goes on"
expect_grep "mirad-augment names the truncated PNG" "bad_truncated.png" "$T/err"
check "mirad-augment writes the good and odd images" \
	test -e "$T/aug/chain_buckle/train/good/odd_palette.png"

if [ -x "$BIN/mirad-convert" ]; then
	run "$BIN/mirad-convert" --to mvtec -o "$T/mv" "$T/ds"
	no_crash "mirad-convert goes on"
	expect_grep "mirad-convert names the truncated PNG" "bad_truncated.png" "$T/err"
	check "mirad-convert writes the rest" test -d "$T/mv/rabbit_pendant/train/good"
fi

done_testing
