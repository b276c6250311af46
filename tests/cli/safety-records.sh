#!/bin/sh
# SPDX-License-Identifier: MIT
# Records are never silently dropped, doubled or mixed: mirad-stats --merge
# refuses incomplete or mixed sets of partials, reported images and masks
# stay out of mirad-split's sets, duplicate records are reported by every
# tool (and evaluated once), mirad-stats reports masks of the wrong size,
# reads --nodes by its header, and counts training anomalies as
# mirad-fetch does.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

STATS=$BIN/mirad-stats
SPLIT=$BIN/mirad-split
EVAL=$BIN/mirad-eval
FETCH=$BIN/mirad-fetch
S=$T/sample
"$GEN" -o "$S" --scale 0.02 --seed 3 >/dev/null 2>"$T/generr" &&
	"$GEN" -o "$T/other" --scale 0.02 --seed 4 >/dev/null 2>>"$T/generr" ||
	{ echo "Bail out! generator failed"; cat "$T/generr"; exit 1; }

# --- mirad-stats --merge: every shard of one job, once -----------------
for i in 0 1; do "$STATS" --partial --shard "$i/2" "$S" >"$T/two$i.json"; done
for i in 0 1 2; do "$STATS" --partial --shard "$i/3" "$S" >"$T/three$i.json"; done
"$STATS" --partial --shard 1/2 "$T/other" >"$T/alien1.json"
"$STATS" "$S" >"$T/single.md"

run "$STATS" --merge "$T/two1.json" "$T/two0.json"
expect_status "merge of both shards: exit 0" 0
expect_same "merge of both shards equals the single run" "$T/out" "$T/single.md"

run "$STATS" --merge "$T/two0.json" "$T/two0.json"
expect_status "the same part twice: fatal" 3
expect_grep "the same part twice is named" "two0.json: shard 0/2 given twice \(also .*two0.json\)" "$T/err"
expect_empty "the same part twice: no table" "$T/out"

run "$STATS" --merge "$T/two0.json"
expect_status "one of two parts: fatal" 3
expect_grep "the missing shard is named" "missing shard 1/2 \(1 of 2 partial files given\)" "$T/err"

run "$STATS" --merge "$T/two0.json" "$T/three1.json" "$T/three2.json"
expect_status "a 2-way and a 3-way set mixed: fatal" 3
expect_grep "the mixed set is named" "three1.json: not from the same run as .*two0.json \(a shard of 3, not of 2\)" "$T/err"

run "$STATS" --merge "$T/two0.json" "$T/alien1.json"
expect_status "a part of another dataset: fatal" 3
expect_grep "the foreign part is named" "alien1.json: not from the same run as .*two0.json" "$T/err"

"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); del d["job"]; json.dump(d, open(sys.argv[2], "w"))' "$T/two1.json" "$T/nojob1.json"
run "$STATS" --merge "$T/two0.json" "$T/nojob1.json"
expect_status "a part without a job fingerprint: fatal" 3
expect_grep "the part without a fingerprint is named" "nojob1.json: no job fingerprint or shard number" "$T/err"

"$STATS" --partial --imaging --shard 1/2 "$S" >"$T/img1.json"
run "$STATS" --merge "$T/two0.json" "$T/img1.json"
expect_status "parts made with other options: fatal" 3

# A partial made with --geometry merges with its geometry.
"$STATS" --geometry "$S" >"$T/geo.md"
for i in 0 1; do "$STATS" --partial --geometry --shard "$i/2" "$S" >"$T/geo$i.json"; done
run "$STATS" --merge "$T/geo0.json" "$T/geo1.json"
expect_status "merge of --geometry partials: exit 0" 0
expect_grep "the merge prints the geometry without --geometry" "^Defect geometry:" "$T/out"
expect_same "... equal to the single --geometry run" "$T/out" "$T/geo.md"

# --- mirad-split: reported records stay out of every set ----------------
B=$T/broken
cp -r "$S" "$B"
: >"$B/chain_buckle/train/good/000.png"
"$PY" - "$B/chain_buckle/ground_truth/anomaly/001_mask.png" <<'EOF'
import sys
from PIL import Image
Image.new("L", (10, 10), 255).save(sys.argv[1])
EOF
run "$SPLIT" "$B"
expect_status "split of a tree with a zero-byte image and a small mask: exit 1" 1
expect_grep "the unreadable image is reported" "chain_buckle/train/good/000.png: unreadable image" "$T/err"
expect_grep "the small mask is reported" "chain_buckle/ground_truth/anomaly/001_mask.png: mask is 10x10, image is" "$T/err"
expect_no_grep "the unreadable image is not in the manifest" "chain_buckle/train/good/000.png" "$T/out"
expect_no_grep "the record of the small mask is not in the manifest" "chain_buckle/test/anomaly/001.png" "$T/out"
expect_grep "the other records are" "chain_buckle/train/good/001.png" "$T/out"
run "$SPLIT" --categories chain_buckle --shots 3 "$B"
expect_status "K-shot split of the tree: exit 1" 1
expect_no_grep "the unreadable image is never a K-shot image" "train/good/000.png" "$T/out"
expect_eq "three good images drawn" "$(grep -c '"split":"train"' "$T/out")" 3
run "$SPLIT" --val 2 "$B"
expect_no_grep "the unreadable image never goes to val" "chain_buckle/train/good/000.png" "$T/out"

# --- mirad-stats -a: a mask of another size is reported -----------------
run "$STATS" --geometry "$B"
expect_status "stats --geometry with a small mask: exit 1" 1
expect_grep "the small mask is reported" "chain_buckle/ground_truth/anomaly/001_mask.png: mask is 10x10, image is [0-9]+x[0-9]+" "$T/err"

# --- duplicate records --------------------------------------------------
"$SPLIT" "$S" >"$T/m.jsonl"
test_line=$(grep '"split":"test"' "$T/m.jsonl" | grep '"label":"anomaly"' | head -1)
cat1=$(echo "$test_line" | sed 's/.*"category":"\([^"]*\)".*/\1/')
# The leak in another category, so that the repeat's row shows the count.
train_line=$(grep '"split":"train"' "$T/m.jsonl" | grep -v "\"category\":\"$cat1\"" | head -1)
first=$(grep -nF "$test_line" "$T/m.jsonl" | cut -d: -f1)
tfirst=$(grep -nF "$train_line" "$T/m.jsonl" | cut -d: -f1)
n=$(wc -l <"$T/m.jsonl")
{
	cat "$T/m.jsonl"
	echo "$test_line"
	echo "$train_line" | sed 's/"split":"train"/"split":"test"/'
} >"$T/dup.jsonl"
img=$(echo "$test_line" | sed 's/.*"image":"\([^"]*\)".*/\1/')
timg=$(echo "$train_line" | sed 's/.*"image":"\([^"]*\)".*/\1/')
"$STATS" "$T/m.jsonl" >"$T/m.md"
run "$STATS" "$T/dup.jsonl"
expect_status "stats of a manifest with duplicates: exit 1" 1
expect_grep "stats names both lines of a repeat" "^mirad-stats: .*dup.jsonl:$((n + 1)): $img also at line $first" "$T/err"
expect_grep "stats names a leak between train and test" "^mirad-stats: .*dup.jsonl:$((n + 2)): $timg also at line $tfirst \(train and test: leakage\)" "$T/err"
expect_eq "stats counts a repeated image once" "$(grep "^| $cat1 |" "$T/out")" "$(grep "^| $cat1 |" "$T/m.md")"
run "$SPLIT" "$T/dup.jsonl"
expect_grep "split names the repeat" "^mirad-split: .*dup.jsonl:$((n + 1)): $img also at line $first" "$T/err"
expect_eq "split keeps the repeated image once" "$(grep -cF "\"image\":\"$img\"" "$T/out")" 1

E=$T/evalds
"$GEN" -o "$E" --scale 0.02 --layout mvtec --seed 3 --categories rabbit_pendant >/dev/null 2>&1
"$PY" "$MIRAD_SRCDIR/tests/cli/eval_reference.py" gen "$E" "$T/maps" quant8 7
"$SPLIT" "$E" >"$T/e.jsonl"
line=$(grep '"split":"test"' "$T/e.jsonl" | grep '"label":"anomaly"' | head -1)
{ cat "$T/e.jsonl"; echo "$line"; } >"$T/edup.jsonl"
"$EVAL" --gt "$T/e.jsonl" --maps "$T/maps" -F json >"$T/e.json"
run "$EVAL" --gt "$T/edup.jsonl" --maps "$T/maps" -F json
expect_status "eval of a ground truth with a repeat: exit 1" 1
expect_grep "eval names both lines" "^mirad-eval: .*edup.jsonl:$(($(wc -l <"$T/e.jsonl") + 1)): .* also at line [0-9]+" "$T/err"
expect_same "eval counts the repeated image once" "$T/out" "$T/e.json"
eline=$(($(wc -l <"$T/e.jsonl") + 1))
run "$BIN/mirad-convert" --to mvtec -o "$T/conv" "$T/edup.jsonl"
expect_status "convert of a manifest with a repeat: exit 1" 1
expect_grep "convert names both lines" "^mirad-convert: .*edup.jsonl:$eline: .* also at line [0-9]+ \(converted once\)" "$T/err"
run "$BIN/mirad-augment" --no-progress -p node3 -o "$T/aug" "$T/edup.jsonl"
expect_status "augment of a manifest with a repeat: exit 1" 1
expect_grep "augment names both lines" "^mirad-augment: .*edup.jsonl:$eline: .* also at line [0-9]+ \(augmented once\)" "$T/err"

# --- mirad-stats --nodes: columns by their header ------------------------
"$STATS" --by node --nodes "$S/nodes.csv" --format csv "$S" >"$T/bynode.csv"
awk -F, 'BEGIN { OFS = "," } { print $2, $1 }' "$S/nodes.csv" >"$T/swapped.csv"
run "$STATS" --by node --nodes "$T/swapped.csv" --format csv "$S"
expect_status "--nodes with node,image columns: exit 0" 0
expect_no_grep "no record is under unknown" "^unknown," "$T/out"
expect_same "the same table as with image,node" "$T/out" "$T/bynode.csv"
printf 'image\nx.png\n' >"$T/nonode.csv"
run "$STATS" --by node --nodes "$T/nonode.csv" "$S"
expect_status "--nodes without a node column: fatal" 3
expect_grep "the missing column is named" "nonode.csv: header has no \"node\" column" "$T/err"

# --- anomalous training images: one rule in fetch and stats --------------
mkdir -p "$T/vcsv"
cat >"$T/vcsv/1cls.csv" <<'EOF'
object,split,label,image,mask
candle,train,normal,candle/Data/Images/Normal/0000.JPG,
candle,train,normal,candle/Data/Images/Normal/0001.JPG,
candle,train,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png
candle,test,normal,candle/Data/Images/Normal/0002.JPG,
candle,test,anomaly,candle/Data/Images/Anomaly/001.JPG,candle/Data/Masks/Anomaly/001.png
EOF
"$GEN" -o "$T/visa" --layout visa --visa-csv "$T/vcsv/1cls.csv" >/dev/null 2>&1
run "$FETCH" --verify "$T/visa"
expect_status "fetch --verify of a tree with a training anomaly: exit 0" 0
expect_grep "fetch counts the training anomaly apart" "^\| candle \| 2 \| 1 \| 1 \| 1 \|$" "$T/out"
expect_grep "fetch's summary too" "^images: 5 \(train 2, train abnormal 1, test normal 1, test abnormal 1\)$" "$T/out"
run "$STATS" "$T/visa"
expect_grep "stats counts it the same way" "^\| candle \| 2 \| 1 \| 1 \| 1 \| – \|$" "$T/out"

done_testing
