#!/bin/sh
# SPDX-License-Identifier: MIT
# Black-box tests of mirad-split: the native split as a manifest.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python
S=$BIN/mirad-split

common_cli_checks mirad-split

"$GEN" -o "$T/ds" --scale 0.05 --seed 3

# The dataset's own split, one record per image.
run "$S" "$T/ds"
expect_status "scan of a clean sample exits 0" 0
expect_empty "clean scan writes nothing on stderr" "$T/err"
cp "$T/out" "$T/m.jsonl"
expect_eq "one record per image" "$(wc -l <"$T/m.jsonl")" \
	"$(find "$T/ds" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)"
"$PY" - "$T/m.jsonl" "$T/ds" >"$T/check" 2>&1 <<'PYEOF'
import json, os, sys
root = os.path.realpath(sys.argv[2])
bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    for k in ("category", "split", "label", "defect", "image", "mask", "root"):
        if k not in r: bad += 1
    if r["root"] != root: bad += 1
    if not os.path.isfile(os.path.join(r["root"], r["image"])): bad += 1
    if (r["label"] == "anomaly") != (r["mask"] is not None): bad += 1
    if r["mask"] and not os.path.isfile(os.path.join(r["root"], r["mask"])): bad += 1
    if r["split"] == "train" and r["label"] != "normal": bad += 1
    if r["width"] <= 0 or r["height"] <= 0 or r["channels"] != 3: bad += 1
print(bad)
PYEOF
expect_eq "every record is complete and points at real files" "$(cat "$T/check")" 0
expect_eq "anomalies pooled as defect 'anomaly'" \
	"$(grep -c '"label":"anomaly","defect":"anomaly"' "$T/m.jsonl")" \
	"$(find "$T/ds" -path '*test/anomaly/*.png' | wc -l)"

run "$S" "$T/ds"
expect_same "two runs give the same bytes" "$T/out" "$T/m.jsonl"

# A manifest in, the same manifest out: implicit stdin, '-' and a file.
run_in "$T/m.jsonl" "$S"
expect_same "implicit stdin re-emits the manifest" "$T/out" "$T/m.jsonl"
run_in "$T/m.jsonl" "$S" -
expect_same "'-' re-emits the manifest" "$T/out" "$T/m.jsonl"
run "$S" "$T/m.jsonl"
expect_same "a manifest file re-emits the manifest" "$T/out" "$T/m.jsonl"

# -o writes the file atomically; a bad -o leaves nothing.
run "$S" -o "$T/out.jsonl" "$T/ds"
expect_status "-o exits 0" 0
expect_same "-o writes the manifest" "$T/out.jsonl" "$T/m.jsonl"
run "$S" -o "$T/no/such/dir/x.jsonl" "$T/ds"
expect_status "-o into a missing folder is fatal (3)" 3
expect_grep "-o error names the file" "^mirad-split: .*no/such/dir/x.jsonl: No such file or directory" "$T/err"

# A malformed line is reported with file:line and the rest goes on.
{ head -n 2 "$T/m.jsonl"; echo '{"category": broken'; echo '{"category":"x","split":"dev","label":"normal","image":"a.png"}'; tail -n +3 "$T/m.jsonl"; } >"$T/bad.jsonl"
run "$S" "$T/bad.jsonl"
expect_status "malformed lines give status 1" 1
expect_grep "bad JSON reported with file:line" "^mirad-split: .*bad.jsonl:3: invalid JSON" "$T/err"
expect_grep "bad field reported with file:line" "^mirad-split: .*bad.jsonl:4: field \"split\" is \"dev\"" "$T/err"
expect_eq "all good records still written" "$(wc -l <"$T/out")" "$(wc -l <"$T/m.jsonl")"

# Fatal errors.
run "$S" "$T/does-not-exist"
expect_status "nonexistent input is fatal (3)" 3
expect_grep "nonexistent input is named" "^mirad-split: .*does-not-exist: No such file or directory$" "$T/err"
run "$S" "$T/ds" "$T/ds"
expect_status "two inputs are a usage error" 2
run "$S" --layout nonsense "$T/ds"
expect_status "unknown layout is a usage error" 2
expect_grep "unknown layout lists the choices" "mirad, mvtec, visa, visa-prepared" "$T/err"
run "$S" --layout visa "$T/ds"
expect_status "forcing a layout that does not fit is fatal" 3
if [ -w /dev/full ]; then
	rc=0; "$S" "$T/ds" >/dev/full 2>"$T/err" || rc=$?
	expect_status "write error on stdout is fatal (3)" 3
	expect_grep "write error is reported" "error writing standard output" "$T/err"
fi

# Problems in a tree are reported precisely; the tree still scans.
cp -r "$T/ds" "$T/broken"
rm "$T/broken/chain_buckle/ground_truth/anomaly/001_mask.png"
mkdir -p "$T/broken/chain_buckle/ground_truth/anomaly" "$T/broken/chain_buckle/weird"
cp "$T/broken/chain_buckle/ground_truth/anomaly/000_mask.png" "$T/broken/chain_buckle/ground_truth/anomaly/999_mask.png"
touch "$T/broken/chain_buckle/train/good/.DS_Store" "$T/broken/chain_buckle/train/good/Thumbs.db"
run "$S" "$T/broken"
expect_status "a tree with problems exits 1" 1
expect_grep "anomaly without a mask" "broken/chain_buckle/test/anomaly/001.png: anomaly without a mask$" "$T/err"
expect_grep "mask without an image" "broken/chain_buckle/ground_truth/anomaly/999_mask.png: mask without an image$" "$T/err"
expect_grep "unknown folder" "broken/chain_buckle/weird: unknown folder" "$T/err"
expect_eq "problem tree still lists every image" "$(wc -l <"$T/out")" "$(wc -l <"$T/m.jsonl")"
expect_no_grep "hidden files are not images" "DS_Store|Thumbs" "$T/out"

# --no-sizes skips the headers.
run "$S" --no-sizes "$T/ds"
expect_no_grep "--no-sizes writes no sizes" '"width"' "$T/out"

# MVTec- and VisA-shaped trees.
"$GEN" -o "$T/mv" --scale 0.03 --layout mvtec
run "$S" "$T/mv"
expect_status "mvtec tree scans cleanly" 0
expect_grep "defect folders become defect names" '"defect":"scratch"' "$T/out"
"$GEN" -o "$T/visa" --scale 0.03 --layout visa
run "$S" "$T/visa"
expect_status "visa tree scans cleanly" 0
expect_eq "visa: one record per split row" "$(wc -l <"$T/out")" "$(($(wc -l <"$T/visa/split_csv/1cls.csv") - 1))"
expect_grep "visa defect names from image_anno.csv" '"defect":"(scratch|crack|stain)"' "$T/out"

done_testing
