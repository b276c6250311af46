#!/bin/sh
# SPDX-License-Identifier: MIT
# Nothing is destroyed, corrupted or silently dropped on the way through a
# format: pass-through fields keep their exact text, requests that would
# write a tree other than the one asked for are refused, list names do not
# overwrite each other, and malformed input rows are reported.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
S=$BIN/mirad-split
C=$BIN/mirad-convert

# ---- pass-through fields keep their JSON text ----------------------------
"$GEN" -o "$T/mir" --scale 0.03 --seed 5 >/dev/null
"$S" --no-sizes "$T/mir" >"$T/mir.jsonl"
# Every line gets fields cJSON alone would change: an integer above 2^53,
# a string with \u0000, numbers spelled in ways a double prints otherwise.
extra=',"node":12345678901234567,"note":"a\u0000b","gain":1.10,"v":[1, 2.50e3]'
while IFS= read -r line; do
	printf '%s%s}\n' "${line%\}}" "$extra"
done <"$T/mir.jsonl" >"$T/extra.jsonl"
run "$S" "$T/extra.jsonl"
expect_status "mirad-split reads the manifest" 0
expect_eq "mirad-split writes every extra field as it was read" \
	"$(grep -cF "$extra" "$T/out")" "$(wc -l <"$T/extra.jsonl")"
head -1 "$T/extra.jsonl" >"$T/one.jsonl"
run "$C" --to mvtec -o "$T/one_mv" "$T/one.jsonl"
expect_status "mirad-convert converts the record" 0
expect_grep "mirad-convert passes the extra fields through unchanged" \
	"\"node\":12345678901234567,\"note\":\"a\\\\u0000b\",\"gain\":1.10,\"v\":\\[1, 2.50e3\\]" "$T/out"
run "$BIN/mirad-augment" -p node1 -o "$T/one_aug" "$T/one.jsonl"
expect_status "mirad-augment renders the record" 0
expect_grep "mirad-augment passes the extra fields through unchanged" \
	"\"node\":12345678901234567,\"note\":\"a\\\\u0000b\",\"gain\":1.10,\"v\":\\[1, 2.50e3\\]" "$T/out"
# Sharded runs carry the records through their metadata and the merge.
head -2 "$T/extra.jsonl" >"$T/two.jsonl"
for tool in convert augment; do
	opt="--to mvtec"
	[ "$tool" = augment ] && opt="-p node1"
	for i in 0 1; do
		"$BIN/mirad-$tool" $opt --shard $i/2 -o "$T/${tool}_s$i" "$T/two.jsonl" >/dev/null 2>"$T/err" ||
			diag "$T/err"
	done
	run "$BIN/mirad-$tool" --merge -o "$T/${tool}_m" "$T/${tool}_s0" "$T/${tool}_s1"
	expect_status "mirad-$tool --merge of two shards" 0
	expect_eq "mirad-$tool --merge passes the extra fields through unchanged" \
		"$(grep -cF "$extra" "$T/out")" 2
done

# ---- --anomalib and the 2cls splits ------------------------------------
mkdir "$T/csv"
printf '%s\r\n' "object,split,label,image,mask" \
	"candle,train,normal,candle/Data/Images/Normal/0000.JPG," \
	"candle,train,normal,candle/Data/Images/Normal/0001.JPG," \
	"candle,test,normal,candle/Data/Images/Normal/0002.JPG," \
	"candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png" \
	"candle,test,anomaly,candle/Data/Images/Anomaly/001.JPG,candle/Data/Masks/Anomaly/001.png" \
	>"$T/csv/1cls.csv"
sed 's/^candle,test,anomaly,\(.*000.JPG\)/candle,train,anomaly,\1/' "$T/csv/1cls.csv" >"$T/csv/2cls_fewshot.csv"
"$GEN" --visa-csv "$T/csv/1cls.csv" --image-scale 0.1 -o "$T/visa" >/dev/null
check "the generated VisA tree has both split files" test -f "$T/visa/split_csv/2cls_fewshot.csv"

run "$C" --to visa-prepared --anomalib --split-csv "$T/visa/split_csv/2cls_fewshot.csv" -o "$T/vpa" "$T/visa"
expect_status "--anomalib with a 2cls split file is refused (2)" 2
expect_grep "the refusal says why" "anomalib's Visa reads; drop it for the 2cls_fewshot split" "$T/err"
check "the refused --anomalib run writes nothing" test ! -e "$T/vpa"
run "$C" --to visa-prepared --anomalib --split-type 2cls_highshot -o "$T/vpa" "$T/visa"
expect_status "--anomalib with --split-type 2cls_* is refused (2)" 2
check "the refused --split-type run writes nothing" test ! -e "$T/vpa"
# A manifest with anomalous training images is a 2cls split too.
"$S" --no-sizes --split-csv "$T/visa/split_csv/2cls_fewshot.csv" "$T/visa" >"$T/2cls.jsonl"
run "$C" --to visa-prepared --anomalib -o "$T/vpa" "$T/2cls.jsonl"
expect_status "--anomalib with anomalous training images is refused (2)" 2
expect_grep "the refusal names the input and the option" "2cls.jsonl: anomalous training images: .*drop --anomalib" "$T/err"
check "the refused manifest run writes nothing" test ! -e "$T/vpa"
run "$C" --to visa-prepared --anomalib -o "$T/vpa" "$T/visa"
expect_status "--anomalib with the 1cls split still works" 0
check "--anomalib 1cls writes visa_pytorch/candle" test -d "$T/vpa/visa_pytorch/candle/ground_truth/bad"

run "$C" --to visa-prepared --split-type 2cls_fewshot -o "$T/vp2" "$T/visa"
expect_status "--split-type 2cls_* without --split-csv is refused (2)" 2
expect_eq "the refusal is one line" "$(wc -l <"$T/err")" 1
expect_grep "the refusal says what to give" "needs --split-csv FILE .*split_csv/2cls_fewshot.csv" "$T/err"
check "the refused 2cls run writes nothing" test ! -e "$T/vp2"
run "$C" --to visa-prepared --split-type 2cls_fewshot --split-csv "$T/visa/split_csv/2cls_fewshot.csv" -o "$T/vp2" "$T/visa"
expect_status "--split-type 2cls_* with its --split-csv works" 0
check "the 2cls tree has the training anomaly" test -f "$T/vp2/2cls_fewshot/candle/train/bad/000.JPG"

# ---- UniAD result names after --merge ------------------------------------
# UniAD writes each result to {clsname}_{folder}_{stem}.npz: the names of
# one list must differ.
uniad_names_unique() {
	"$PY" - "$1" <<'PYEOF'
import json, os, sys
names = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    folder, fname = os.path.split(d["filename"])
    names.append(os.path.splitext("{}_{}_{}".format(
        d["clsname"], os.path.split(folder)[1], fname))[0])
sys.exit(0 if names and len(set(names)) == len(names) else 1)
PYEOF
}
mkdir "$T/u"
run "$S" --no-sizes --merge all --format uniad -o "$T/u/merged" "$T/mir"
expect_status "--merge with --format uniad and colliding names is refused (2)" 2
expect_grep "the refusal names two images and the way out" \
	"/test/anomaly/000.png and .*/test/anomaly/000.png would share UniAD's result file all_anomaly_000 .*mirad-convert --to mvtec --emit uniad" "$T/err"
check "the refused uniad run writes no list" test ! -e "$T/u/merged-test.json"
run "$S" --no-sizes --format uniad -o "$T/u/plain" "$T/mir"
expect_status "--format uniad without --merge works" 0
check "each category keeps its own UniAD result names" uniad_names_unique "$T/u/plain-test.json"
"$S" --no-sizes --val 1 --merge all -o "$T/merged.jsonl" "$T/mir"
run "$C" --to mvtec --emit uniad -o "$T/merged_mv" "$T/merged.jsonl"
expect_status "the suggested mirad-convert --to mvtec --emit uniad works" 0
check "its merged test list has unique UniAD result names" uniad_names_unique "$T/merged_mv/test.json"
run "$C" --emit uniad -o "$T/merged_lists" "$T/merged.jsonl"
expect_status "mirad-convert --emit uniad alone refuses colliding names (2)" 2
check "the refused --emit run writes nothing" test ! -e "$T/merged_lists"
expect_eq "its lists hold every record, val in val.json" \
	"$(cat "$T/merged_mv/train.json" "$T/merged_mv/test.json" "$T/merged_mv/val.json" | wc -l)" \
	"$(grep -c '"image"' "$T/merged.jsonl")"

# ---- malformed rows are reported, not skipped or read past ---------------
# A split file with an extra leading column: a short row cannot reach the
# mask column.
printf '%s\n' "id,object,split,label,image,mask" \
	"1,candle,train,normal,candle/Data/Images/Normal/0000.JPG," \
	"2,candle,test,normal,candle/Data/Images/Normal/0002.JPG" >"$T/csv/extra_column.csv"
run "$S" --no-sizes --split-csv "$T/csv/extra_column.csv" "$T/visa"
expect_status "a short split row makes the exit status 1" 1
expect_grep "the short row is reported with its line" "extra_column.csv:3: expected 6 fields, got 5" "$T/err"
expect_eq "the full row is read" "$(grep -c '0000.JPG' "$T/out")" 1

# A manifest line that starts with NUL is not a blank line.
{ printf '\000'; head -1 "$T/mir.jsonl"; sed -n 2p "$T/mir.jsonl"; } >"$T/nul.jsonl"
run "$S" "$T/nul.jsonl"
expect_status "a NUL-leading line makes the exit status 1" 1
expect_grep "the NUL-leading line is reported" "nul.jsonl:1: NUL byte in line" "$T/err"
expect_eq "the other line is read" "$(wc -l <"$T/out")" 1

# The place of a bad line keeps the whole file name, ": " and all.
{ head -1 "$T/mir.jsonl"; echo '[1]'; } >"$T/run: 2.jsonl"
run "$S" "$T/run: 2.jsonl"
expect_status "a bad manifest line makes the exit status 1" 1
expect_grep "the bad line is named by its whole file name" "run: 2.jsonl:2: not a JSON object\$" "$T/err"

# An empty --plots folder is an error, not a read past the path.
run "$BIN/mirad-stats" --plots "" "$T/mir.jsonl"
expect_status "--plots '' fails as a missing folder (3)" 3
expect_grep "the empty folder is named" "No such file or directory" "$T/err"

done_testing
