#!/bin/sh
# SPDX-License-Identifier: MIT
# The header walk of mirad-split DIR and mirad-stats --check-sizes DIR
# (files opened relative to their folder, no stat() for a file the listing
# saw as regular, headers read while later categories are listed):
# damaged, cut and empty images and masks in several categories are still
# reported, in record order, and left out; a link to an image is read
# through; one thread and several give the same bytes.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

"$GEN" -o "$T/w" --scale 0.03 --seed 3 --categories building_block,chain_buckle,geometric_block
W=$T/w
# A cut image in the first category, an empty one in the second, a cut
# mask in the third; a link to a good image and one to the cut image.
head -c 60 "$W/building_block/train/good/001.png" >"$T/cut.png"
mv "$T/cut.png" "$W/building_block/train/good/001.png"
: >"$W/chain_buckle/test/good/000.png"
head -c 50 "$W/geometric_block/ground_truth/anomaly/000_mask.png" >"$T/cutmask.png"
mv "$T/cutmask.png" "$W/geometric_block/ground_truth/anomaly/000_mask.png"
ln -s 002.png "$W/chain_buckle/train/good/link.png"
ln -s 001.png "$W/building_block/train/good/link-to-cut.png"

cd "$T" || exit 1
run "$BIN/mirad-split" w
expect_status "mirad-split: the bad files make the status 1" 1
expect_grep "the cut image is named" "^mirad-split: w/building_block/train/good/001.png: unreadable image: truncated PNG\$" "$T/err"
expect_grep "the link to it is named" "^mirad-split: w/building_block/train/good/link-to-cut.png: unreadable image: truncated PNG\$" "$T/err"
expect_grep "the empty image is named" "^mirad-split: w/chain_buckle/test/good/000.png: unreadable image: empty file\$" "$T/err"
expect_grep "the cut mask is named" "^mirad-split: w/geometric_block/ground_truth/anomaly/000_mask.png: unreadable mask: truncated PNG\$" "$T/err"
expect_no_grep "the bad images are left out" '"image":"(building_block/train/good/001.png|building_block/train/good/link-to-cut.png|chain_buckle/test/good/000.png|geometric_block/test/anomaly/000.png)"' "$T/out"
expect_grep "the link to a good image is read" '"image":"chain_buckle/train/good/link.png".*"width":[1-9]' "$T/out"
nrec=$(grep -c '"width":[1-9]' "$T/out")
expect_eq "every other record has its size" "$nrec" "$(wc -l <"$T/out" | tr -d ' ')"
# The problems come in record order: the categories in order.
order=$(sed -n 's/^mirad-split: w\/\([a-z_]*\)\/.*/\1/p' "$T/err" | uniq | tr '\n' ' ')
expect_eq "problems in record order" "$order" "building_block chain_buckle geometric_block "
cp "$T/out" "$T/out.default"
cp "$T/err" "$T/err.default"
VIPS_CONCURRENCY=1
export VIPS_CONCURRENCY
run "$BIN/mirad-split" w
check "one thread: the same manifest" cmp -s "$T/out" "$T/out.default"
check "one thread: the same messages" cmp -s "$T/err" "$T/err.default"
VIPS_CONCURRENCY=3
run "$BIN/mirad-split" w
check "three threads: the same manifest" cmp -s "$T/out" "$T/out.default"
check "three threads: the same messages" cmp -s "$T/err" "$T/err.default"
unset VIPS_CONCURRENCY

run "$BIN/mirad-stats" --check-sizes w
expect_status "mirad-stats --check-sizes: status 1" 1
expect_grep "mirad-stats names the cut image" "w/building_block/train/good/001.png: unreadable image: truncated PNG\$" "$T/err"
expect_grep "mirad-stats names the empty image" "w/chain_buckle/test/good/000.png: unreadable image: empty file\$" "$T/err"
expect_grep "mirad-stats names the cut mask" "w/geometric_block/ground_truth/anomaly/000_mask.png: unreadable mask: truncated PNG\$" "$T/err"

done_testing
