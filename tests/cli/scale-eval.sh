#!/bin/sh
# SPDX-License-Identifier: MIT
# Scale-out of mirad-eval: `--shard I/N --partial` runs merged with `--merge`
# print exactly the single run's table (byte for byte) in every format, with
# --metrics, --compat=ader, --methods, --scores, a category without
# anomalies, bad maps, N = 1, more shards than images and --shard slurm;
# and the merge refuses incomplete, mixed, damaged or foreign inputs without
# leaving a half-written output.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python numpy PIL
EVAL=$BIN/mirad-eval
REF="$PY $MIRAD_SRCDIR/tests/cli/eval_reference.py"

fixture mvtec-small "$T/ds"
check "sample dataset generated" test -d "$T/ds/rabbit_pendant/ground_truth"
$REF gen "$T/ds" "$T/m_float" float 7 # float32 TIFF
$REF gen "$T/ds" "$T/m_ties" ties 9   # float32 TIFF, 6 levels: ties across shards
$REF gen "$T/ds" "$T/m_q8" quant8 7   # 8-bit PNG
check "maps generated" test -f "$T/m_q8/chain_buckle/test/good/000.png"

# shards N DIR ARGS...: the partial files of N shards of the run ARGS in
# DIR/<i>.part; every shard's status in $T/shard_rc, stderr in DIR/<i>.err
shards() {
	_n=$1 _dir=$2
	shift 2
	rm -rf "$_dir" && mkdir -p "$_dir"
	: >"$T/shard_rc"
	_i=0
	while [ "$_i" -lt "$_n" ]; do
		_rc=0
		$RUN "$EVAL" "$@" --shard "$_i/$_n" --partial -o "$_dir/$_i.part" \
			2>"$_dir/$_i.err" || _rc=$?
		echo "$_rc" >>"$T/shard_rc"
		_i=$((_i + 1))
	done
}

# same DESC FMT ARGS...: the single run of ARGS and the merge of 3 shards
# (given in scrambled order) print the same bytes and exit alike
same() {
	_desc=$1 _fmt=$2
	shift 2
	run "$EVAL" "$@" -F "$_fmt"
	cp "$T/out" "$T/single.out"
	cp "$T/err" "$T/single.err"
	_src=$rc
	shards 3 "$T/p" "$@"
	run "$EVAL" --merge -F "$_fmt" "$T/p/2.part" "$T/p/0.part" "$T/p/1.part"
	expect_same "$_desc: merge of 3 shards = single run ($_fmt)" "$T/out" "$T/single.out"
	expect_eq "$_desc: merge exits like the single run" "$rc" "$_src"
}

# The runs up to the bad maps repeat, shard by shard, what mirad-eval.sh
# leak-checks; the failure cases from there on are leak-checked again.
leak_checks off

# formats: one set of partial files, merged in each format
same "float maps" md --gt "$T/ds" --maps "$T/m_float"
expect_eq "every shard exits 0" "$(sort -u "$T/shard_rc")" "0"
expect_grep "the md table has the mean row" '^\| \*\*Mean\*\* \| 47 \|' "$T/out"
for f in csv json tex; do
	run "$EVAL" --gt "$T/ds" --maps "$T/m_float" -F $f
	cp "$T/out" "$T/single.$f"
	run "$EVAL" --merge -F $f "$T/p/1.part" "$T/p/2.part" "$T/p/0.part"
	expect_same "float maps: the same partial files give the single run's $f" "$T/out" "$T/single.$f"
done
expect_grep "the csv has one row per category" "^rabbit_pendant,5,4,[0-9]+,4," "$T/single.csv"
run "$EVAL" --merge -o "$T/merged.md" "$T/p/0.part" "$T/p/1.part" "$T/p/2.part"
expect_status "--merge -o exits 0" 0
expect_empty "--merge -o prints nothing" "$T/out"
run "$EVAL" --gt "$T/ds" --maps "$T/m_float"
expect_same "--merge -o FILE holds the table" "$T/merged.md" "$T/out"

same "tied float maps" csv --gt "$T/ds" --maps "$T/m_ties"
same "tied maps, --pro-limit 0.1 and a metric subset" json --gt "$T/ds" \
	--maps "$T/m_ties" --pro-limit 0.1 --metrics aupro,p-ap,i-f1max
expect_no_grep "the subset leaves the other metrics out" '"p-auroc"' "$T/out"
same "8-bit PNG maps" csv --gt "$T/ds" --maps "$T/m_q8"
same "--compat ader" csv --gt "$T/ds" --maps "$T/m_ties" --compat ader
same "--compat ader --adeval-strips 77" json --gt "$T/ds" --maps "$T/m_float" \
	--compat ader --adeval-strips 77
for f in md csv tex json; do
	same "--methods with 2 methods" $f --gt "$T/ds" \
		--methods "$T/m_ties,q8=$T/m_q8" --metrics i-auroc,p-ap,aupro
done
expect_grep "the methods json names both" '"q8"' "$T/out"

# --scores: image scores from a file
$BIN/mirad-split "$T/ds" >"$T/ds.jsonl" 2>/dev/null
$PY - "$T/ds.jsonl" "$T/scores.csv" <<'EOF'
import json, sys, zlib
with open(sys.argv[2], "w") as out:
    out.write("image,score\n")
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r["split"] == "test":
            # a few levels, so that image scores tie across shards
            out.write("%s,%d\n" % (r["image"], zlib.crc32(r["image"].encode()) % 4))
EOF
same "--scores FILE" csv --gt "$T/ds" --maps "$T/m_ties" --scores "$T/scores.csv"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" -F csv
if cmp -s "$T/out" "$T/single.out"; then not_ok "--scores changes the image metrics"; else ok "--scores changes the image metrics"; fi

# a category with only good test images (and a manifest as ground truth)
grep -v '"category":"rabbit_pendant","split":"test","label":"anomaly"' "$T/ds.jsonl" >"$T/good.jsonl"
same "a category without anomalies" json --gt "$T/good.jsonl" --maps "$T/m_float"
expect_grep "its AU-PRO is null" '"aupro":[[:space:]]*null' "$T/out"
expect_grep "the merge warns like the single run" "rabbit_pendant: no anomalous test images" "$T/err"

# N = 1: --partial without --shard is shard 0/1; also through a pipe
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" -F csv
cp "$T/out" "$T/single.csv"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --partial -o "$T/whole.part"
expect_status "--partial without --shard exits 0" 0
run "$EVAL" --merge -F csv "$T/whole.part"
expect_same "one partial of the whole run merges to the single run" "$T/out" "$T/single.csv"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --shard 0/1 --partial
cp "$T/out" "$T/stdout.part"
expect_same "--partial writes the same bytes to standard output" "$T/stdout.part" "$T/whole.part"

# more shards than images per category: empty shards
shards 11 "$T/p11" --gt "$T/ds" --maps "$T/m_ties"
expect_eq "11 shards exit 0" "$(sort -u "$T/shard_rc")" "0"
run "$EVAL" --merge -F csv "$T"/p11/*.part
expect_same "11 shards (some empty) merge to the single run" "$T/out" "$T/single.csv"

# --shard slurm: the same partial files as --shard I/N
for i in 0 1 2; do
	SLURM_ARRAY_TASK_ID=$((i + 4)) SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=3 \
		$RUN "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --shard slurm --partial \
		-o "$T/slurm$i.part" 2>"$T/err" || not_ok "slurm task $i failed"
done
shards 3 "$T/p" --gt "$T/ds" --maps "$T/m_ties"
for i in 0 1 2; do
	expect_same "--shard slurm task $i writes shard $i/3's bytes" "$T/slurm$i.part" "$T/p/$i.part"
done
run "$EVAL" --merge -F csv "$T"/slurm*.part
expect_same "the slurm shards merge to the single run" "$T/out" "$T/single.csv"
run env -u SLURM_ARRAY_TASK_ID "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --shard slurm --partial -o "$T/x.part"
expect_status "--shard slurm outside an array job is a usage error" 2

leak_checks on

# bad maps: the shard that meets one warns and exits 1, so does the merge
cp -r "$T/m_float" "$T/m_bad"
rm "$T/m_bad/chain_buckle/test/good/000.tiff"
same "a missing map" csv --gt "$T/ds" --maps "$T/m_bad"
expect_eq "the single run exits 1" "$_src" 1
expect_eq "one shard exits 1, the others 0" "$(sort "$T/shard_rc" | tr -d '\n')" "001"
expect_eq "only that shard names the missing map" \
	"$(grep -l 'm_bad/chain_buckle/test/good/000: no anomaly map' "$T"/p/*.err | wc -l)" 1
cat "$T"/p/*.err >"$T/shards.err"
expect_grep "that shard counts what it skipped" "1 test images of shard [0-2]/3 skipped" "$T/shards.err"
expect_grep "the merge reports the skipped image" "1 test images skipped" "$T/err"
expect_grep "the other categories are in the merged table" "^rabbit_pendant," "$T/out"

# maps of another size: resized; the merge warns as the single run does
cp -r "$T/m_ties" "$T/m_half"
$PY - "$T/m_half" <<'EOF'
import glob, sys
from PIL import Image
for p in sorted(glob.glob(sys.argv[1] + "/geometric_button/test/*/*.tiff"))[1:]:
    im = Image.open(p)
    im.resize((im.width // 2, im.height // 2), Image.BILINEAR).save(p)
EOF
same "maps of another size" csv --gt "$T/ds" --maps "$T/m_half"
grep 'maps resized' "$T/single.err" >"$T/resized.single"
grep 'maps resized' "$T/err" >"$T/resized.merge"
check "the single run warns about the resized maps, normal ones too" grep -q "geometric_button: 5 maps resized" "$T/resized.single"
expect_same "the merge's resize warning is the single run's" "$T/resized.merge" "$T/resized.single"

# ground-truth problems (a malformed manifest line): exit 1 after merging
cp "$T/ds.jsonl" "$T/broken.jsonl"
echo '{"category": ' >>"$T/broken.jsonl"
same "a malformed manifest line" csv --gt "$T/broken.jsonl" --maps "$T/m_ties"
expect_eq "the single run exits 1" "$_src" 1
expect_grep "the merge says the shards saw problems" "shard runs reported problems in the ground truth" "$T/err"

# ---- errors ----
shards 3 "$T/p" --gt "$T/ds" --maps "$T/m_ties"
run "$EVAL" --merge "$T/p/0.part" "$T/p/2.part"
expect_status "a missing shard: exit 3" 3
expect_grep "the missing shard is named" "missing shard 1/3 \(2 of 3 partial files given\)" "$T/err"
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/p/1.part" "$T/p/2.part"
expect_status "a shard given twice: exit 3" 3
expect_grep "the duplicate is named" "1.part: shard 1/3 given twice" "$T/err"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --pro-limit 0.2 --shard 2/3 --partial -o "$T/opt.part"
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/opt.part"
expect_status "a shard run with other options: exit 3" 3
expect_grep "the differing option is named" "opt.part: not from the same run as .*0.part \('pro-limit' differs\)" "$T/err"
mkdir -p "$T/elsewhere" && cp -r "$T/m_ties" "$T/elsewhere/"
run "$EVAL" --gt "$T/ds" --maps "$T/elsewhere/m_ties" --shard 2/3 --partial -o "$T/maps.part"
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/maps.part"
expect_grep "other maps are another run" "maps.part: not from the same run .*\('maps' differs\)" "$T/err"
run "$EVAL" --gt "$T/good.jsonl" --maps "$T/m_ties" --shard 2/3 --partial -o "$T/gt.part"
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/gt.part"
expect_grep "other ground truth is another run" "gt.part: not from the same run .*\('ground-truth' differs\)" "$T/err"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --shard 1/2 --partial -o "$T/of2.part"
run "$EVAL" --merge "$T/p/0.part" "$T/of2.part" "$T/p/2.part"
expect_grep "a shard of another split is refused" "of2.part: not from the same run as .*\(a shard of 2, not of 3\)" "$T/err"

size=$(wc -c <"$T/p/2.part")
head -c $((size - 5)) "$T/p/2.part" >"$T/cut.part"
head -c 20 "$T/p/2.part" >"$T/cut2.part"
printf 'MIRA' >"$T/cut3.part"
for c in cut cut2 cut3; do
	run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/$c.part"
	expect_status "a truncated partial ($c): exit 3" 3
	expect_grep "it is called truncated ($c)" "$c.part: truncated partial file$" "$T/err"
done
cp "$T/p/2.part" "$T/flip.part"
printf '\125' | dd of="$T/flip.part" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/flip.part"
expect_status "a damaged partial: exit 3" 3
expect_grep "the damage is found" "flip.part: corrupt partial file" "$T/err"
cp "$T/p/2.part" "$T/v2.part"
printf '\002' | dd of="$T/v2.part" bs=1 seek=8 conv=notrunc 2>/dev/null
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/v2.part"
expect_grep "another format version is named" "v2.part: partial file version 2; this mirad-eval reads version 1" "$T/err"
{ cat "$T/p/2.part"; echo x; } >"$T/tail.part"
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/tail.part"
expect_grep "trailing bytes are refused" "tail.part: corrupt partial file \(data after the end\)" "$T/err"
run "$EVAL" --merge "$T/p/0.part" "$T/p/1.part" "$T/single.csv"
expect_status "a file that is not a partial: exit 3" 3
expect_grep "it is named" "single.csv: not a mirad-eval partial file" "$T/err"
: >"$T/empty.part"
run "$EVAL" --merge "$T/empty.part"
expect_grep "an empty file is not a partial" "empty.part: empty file, not a mirad-eval partial" "$T/err"
run "$EVAL" --merge "$T/nowhere.part"
expect_status "a missing partial file: exit 3" 3

# a valid partial file claiming 2^63 normal pixels in 150 bytes: merged
# with memory in proportion to the file, not to the count
$PY - "$T/huge.part" <<'EOF'
import struct, sys
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)
def s(x):
    return varint(len(x)) + x.encode()
def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h
fields = [("tool", "mirad-eval"), ("mode", "maps"), ("metrics", "p-auroc,aupro"),
          ("pro-limit", "0x1.3333333333333p-2"), ("compat", "exact"),
          ("adeval-strips", "50"), ("strict", "no"), ("scores", "none"),
          ("ground-truth", "x"), ("test-images", "1"), ("method", "m"),
          ("maps", "m"), ("category", "c"), ("images", "1")]
job = varint(len(fields)) + b"".join(s(k) + s(v) for k, v in fields)
out = b"MIRADEVP" + struct.pack("<IIII", 1, 0, 1, len(job)) + job
# one anomalous image: one region of one pixel; two runs of normal pixels
out += b"SECT" + varint(0) + varint(0) + varint(1) + varint(0) + b"\x01" + struct.pack("<d", 0.5)
out += varint(0) + varint(0) + varint(1) + varint(1) + varint(1)
out += struct.pack("<I", 0x80000000) + varint(1)
out += varint(2) + varint(0xffffffff - 0x90000000) + varint(1 << 63)
out += varint(0x90000000 - 0x10) + varint(3)
out += b"END!" + struct.pack("<QI", 0, 0)
open(sys.argv[1], "wb").write(out + struct.pack("<Q", fnv(out)))
EOF
run "$EVAL" --merge -F csv "$T/huge.part"
expect_status "a partial of 2^63 pixels merges (exit 0)" 0
expect_grep "its pixels are counted exactly" "^c,1,1,9223372036854775812,1," "$T/out"

# a failed merge leaves the previous output alone and no temporary file
echo previous >"$T/out.md"
run "$EVAL" --merge -o "$T/out.md" "$T/p/0.part" "$T/p/1.part" "$T/cut.part"
expect_status "a failing merge with -o: exit 3" 3
expect_eq "the previous -o file is intact" "$(cat "$T/out.md")" "previous"
expect_eq "no temporary file is left" "$(ls -a "$T" | grep -c '\.tmp-')" 0

# a failed shard (--strict and a missing map) leaves no partial file
: >"$T/shard_rc"
for i in 0 1 2; do
	rc=0
	$RUN "$EVAL" --gt "$T/ds" --maps "$T/m_bad" --strict --shard $i/3 --partial \
		-o "$T/strict$i.part" 2>>"$T/err" || rc=$?
	echo $rc >>"$T/shard_rc"
done
expect_eq "the shard meeting the missing map exits 3 under --strict" "$(sort "$T/shard_rc" | tr -d '\n')" "003"
expect_eq "it leaves no partial file, no temporary and no lock" \
	"$(ls -a "$T" | grep -c 'strict')" 2

# a second run on the same partial file is refused while the first holds it
if command -v flock >/dev/null 2>&1; then
	# The test holds the lock itself (flock on its descriptor 9).
	exec 9>"$T/.busy.part.lock"
	flock 9
	run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --partial -o "$T/busy.part"
	exec 9>&-
	expect_status "a partial file being written by another run: exit 3" 3
	expect_grep "the other run is named as the reason" "busy.part: another mirad-eval is writing it" "$T/err"
fi

# usage errors
run "$EVAL" --merge --shard 0/3 "$T/p/0.part"
expect_status "--merge with --shard is a usage error" 2
run "$EVAL" --merge --partial "$T/p/0.part"
expect_status "--merge with --partial is a usage error" 2
run "$EVAL" --merge --gt "$T/ds" "$T/p/0.part"
expect_status "--merge with --gt is a usage error" 2
expect_grep "it says where the options come from" "merge takes the options from the shards: --gt not allowed" "$T/err"
run "$EVAL" --merge --metrics aupro "$T/p/0.part"
expect_status "--merge with --metrics is a usage error" 2
run "$EVAL" --merge
expect_status "--merge without files is a usage error" 2
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --shard 0/3
expect_status "--shard without --partial is a usage error" 2
expect_grep "it says why" "shard needs --partial" "$T/err"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --shard 3/3 --partial
expect_status "--shard 3/3 is a usage error" 2
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --partial -F csv -o "$T/f.part"
expect_status "--partial with --format is a usage error" 2
expect_grep "it names the option" "--partial prints no table or report: -F not allowed" "$T/err"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --partial -o "$T/nodir/x.part"
expect_status "an unwritable partial path: exit 3" 3
expect_grep "it is named with the reason" "nodir/x.part: No such file or directory" "$T/err"
rc=0; $RUN "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --partial >/dev/full 2>"$T/err" || rc=$?
expect_status "a partial on a full disk: exit 3" 3
expect_grep "the write error is reported" "error writing standard output|No space left" "$T/err"
run "$EVAL" --gt "$T/ds" --maps "$T/m_ties" --partial -o -
cp "$T/out" "$T/dash.part"
expect_same "--partial -o - writes to standard output" "$T/dash.part" "$T/whole.part"

done_testing
