#!/bin/sh
# SPDX-License-Identifier: MIT
# Reliability of the outputs of mirad-convert, mirad-stats, mirad-eval and
# mirad-split: under a file-size limit (a full disk) each fails
# with a one-line error naming the file and the reason, keeps the previous
# output byte for byte and leaves no temporary file; two runs at once on
# one output: convert and augment refuse the second (the lock), the
# single-file writers (stats -o, eval -o, split -o) give one complete file,
# never a mix.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python numpy PIL

# ulimit -f counts 512-byte blocks in dash, 1024-byte ones in bash.
ublk=$( (ulimit -f 1; trap '' XFSZ; head -c 4096 /dev/zero >"$T/ublk" 2>/dev/null)
	size_of "$T/ublk")
# full BYTES CMD...: run CMD with writes limited to BYTES per file (0:
# no byte can be written); its status in $rc, its stderr in $T/err
# (through a pipe, which the limit does not cut), its stdout dropped.
full() {
	_lim=$(($1 / ublk))
	shift
	(ulimit -f "$_lim"; "$@" 2>&1 >/dev/null; echo "status $?") |
		cat >"$T/full.out"
	rc=$(sed -n 's/^status //p' "$T/full.out")
	grep -v '^status ' "$T/full.out" >"$T/err"
}
# temps DIR: temporary files and folders left in DIR.
temps() { ls -A "$1" | grep -E '\.tmp-|\.lock$' | tr '\n' ' '; }
# same_tree DESC REF DIR
same_tree() {
	if diff -r "$2" "$3" >"$T/diff" 2>&1; then ok "$1"; else
		not_ok "$1"; diag "$T/diff"; fi
}
one_line() { expect_eq "$1" "$(wc -l <"$T/err")" 1; }

"$GEN" -o "$T/ds" --scale 0.02 --seed 9 --categories chain_buckle,number_block --image-scale 2 >/dev/null 2>&1
check "the sample has files over 1 KiB and under it" \
	sh -c "find '$T/ds' -name '*.png' -size +1024c | grep -q . && find '$T/ds' -name '*.png' -size -1024c | grep -q ."

# ---- mirad-convert ----------------------------------------------------------------
mkdir -p "$T/c"
C="$BIN/mirad-convert -q --to mvtec --link copy"
run $C -o "$T/c/conv" "$T/ds"
expect_status "convert: the reference run exits 0" 0
cp -r "$T/c/conv" "$T/conv.before"
# 1 KiB a file: some images fit, most do not.  Before the fix the run went
# on, skipped the files it could not write as "bad inputs" and published
# a tree with holes in place of the complete one.
full 1024 $C --force -o "$T/c/conv" "$T/ds"
expect_status "convert over a file-size limit is fatal (3)" 3
expect_grep "convert names the file and the reason" \
	"^mirad-convert: $T/c/conv/[a-z_]+/[a-z]+/[a-z]+/[0-9]+\\.png: File too large \\(nothing was published\\)\$" "$T/err"
one_line "convert: the error is one line"
same_tree "convert: the previous output is intact" "$T/conv.before" "$T/c/conv"
expect_eq "convert: no temporary folder or lock file is left" "$(temps "$T/c")" ""
# The same with re-encoding (libvips writes the file).
full 1024 $C --image-format jpg --quality 100 --force -o "$T/c/conv" "$T/ds"
expect_status "convert re-encoding over the limit is fatal (3)" 3
expect_grep "convert names the re-encoded file and the reason" \
	"conv/.*\\.jpg: File too large \\(nothing was published\\)\$" "$T/err"
same_tree "convert re-encoding: the previous output is intact" "$T/conv.before" "$T/c/conv"
expect_eq "convert re-encoding: no temporary file is left" "$(temps "$T/c")" ""
# --emit writes a list beside the tree (hard links: only the list grows).
full 1024 $BIN/mirad-convert -q --to mvtec --link hardlink --emit jsonl --force -o "$T/c/conv" "$T/ds"
expect_status "convert --emit over the limit is fatal (3)" 3
expect_grep "convert names the list" "manifest.jsonl: File too large" "$T/err"
same_tree "convert --emit: the previous output is intact" "$T/conv.before" "$T/c/conv"

# ---- mirad-stats ------------------------------------------------------------------
mkdir -p "$T/s"
S="$BIN/mirad-stats"
for form in "-o $T/s/table.md -a" "-o $T/s/part.json --partial" "--mosaic $T/s/mosaic.png"; do
	set -- $form
	f=$2
	name=$(basename "$f")
	run $S $form "$T/ds"
	expect_status "stats $1 $name: the reference run exits 0" 0
	cp "$f" "$T/before"
	full 0 $S $form "$T/ds"
	expect_status "stats $1 $name over the limit is fatal (3)" 3
	expect_grep "stats $1 $name: the file and the reason are named" \
		"^mirad-stats: $f: File too large\$" "$T/err"
	one_line "stats $1 $name: the error is one line"
	expect_same "stats $1 $name: the previous file is intact" "$T/before" "$f"
	expect_eq "stats $1 $name: no temporary file is left" "$(temps "$T/s")" ""
done
run $S --plots "$T/s/plots" "$T/ds"
expect_status "stats --plots: the reference run exits 0" 0
cp -r "$T/s/plots" "$T/plots.before"
full 0 $S --plots "$T/s/plots" "$T/ds"
expect_status "stats --plots over the limit is fatal (3)" 3
expect_grep "stats --plots names the chart and the reason" \
	"^mirad-stats: $T/s/plots/[a-z_]+\\.png: File too large\$" "$T/err"
same_tree "stats --plots: every chart is still whole" "$T/plots.before" "$T/s/plots"
expect_eq "stats --plots: no temporary file is left" "$(temps "$T/s/plots")" ""

# ---- mirad-eval -------------------------------------------------------------------
"$GEN" -o "$T/mv" --scale 0.02 --layout mvtec --seed 3 --categories chain_buckle,number_block >/dev/null 2>&1
$PY "$MIRAD_SRCDIR/tests/cli/eval_reference.py" gen "$T/mv" "$T/maps" quant8 7
mkdir -p "$T/e"
E="$BIN/mirad-eval --gt $T/mv --maps $T/maps -F json"
run $E -o "$T/e/metrics.json"
expect_status "eval -o: the reference run exits 0" 0
cp "$T/e/metrics.json" "$T/before"
full 0 $E -o "$T/e/metrics.json"
expect_status "eval -o over the limit is fatal (3)" 3
expect_grep "eval names the file and the reason" "^mirad-eval: $T/e/metrics.json: File too large\$" "$T/err"
one_line "eval: the error is one line"
expect_same "eval: the previous file is intact" "$T/before" "$T/e/metrics.json"
expect_eq "eval: no temporary file is left" "$(temps "$T/e")" ""

# ---- mirad-split: several files, all or nothing -------------------------------------
mkdir -p "$T/p" "$T/p2"
run $BIN/mirad-split --format uniad -o "$T/p/u" "$T/ds"
expect_status "split --format uniad: the reference run exits 0" 0
cp -r "$T/p" "$T/p.before"
# The new run's files: train and val fit under the limit, test does not;
# train is renamed first, so a one-by-one commit would have mixed sets.
run $BIN/mirad-split --format uniad --val 1 -o "$T/p2/u" "$T/ds"
t=$(size_of "$T/p2/u-train.json")
v=$(size_of "$T/p2/u-val.json")
lim=$(( ((t > v ? t : v) / 1024 + 1) * 1024 ))
check "the new test file is larger than the limit, train and val are not" \
	test "$(size_of "$T/p2/u-test.json")" -gt "$lim"
full "$lim" $BIN/mirad-split --format uniad --val 1 -o "$T/p/u" "$T/ds"
expect_status "split over the limit is fatal (3)" 3
expect_grep "split names the file and the reason" "^mirad-split: $T/p/u-test.json: File too large\$" "$T/err"
same_tree "split: every earlier file is intact and no new one appeared" "$T/p.before" "$T/p"
expect_eq "split: no temporary file is left" "$(temps "$T/p")" ""

# ---- two runs at once on one output ---------------------------------------------------
# The first run stops itself (SIGSTOP) once its first record is done
# (MIRAD_TEST_STOP_AT, mirad(7)): the second one starts while the first is
# genuinely at work, holding the lock and its temporary folder.
# has_tmp NAME: a run on $T/NAME has its temporary folder.
has_tmp() { ls -A "$T" | grep -q "^\\.$1\\.tmp-"; }
for tool in convert augment; do
	case $tool in
	convert) cmd="$BIN/mirad-convert -q --to mvtec --resize 64" point=converting ;;
	augment) cmd="$BIN/mirad-augment -q --profile node3 --severity 3" point=augmenting ;;
	esac
	$cmd -o "$T/${tool}_ref" "$T/ds" >"$T/${tool}_ref.out" 2>/dev/null
	MIRAD_TEST_STOP_AT=$point:1 $cmd -o "$T/$tool" "$T/ds" >"$T/$tool.out" 2>"$T/$tool.err" &
	pid=$!
	check "$tool: the first run stopped after its first record" wait_stopped "$pid"
	check "$tool: the first run is at work (its temporary folder exists)" has_tmp "$tool"
	run $cmd -o "$T/$tool" "$T/ds"
	expect_status "$tool: a second run while the first works is fatal (3)" 3
	expect_grep "$tool: it says the target is locked" "$tool: cannot lock \\(another mirad-$tool writing it\\?\\)" "$T/err"
	one_line "$tool: the refusal is one line"
	kill -CONT "$pid"
	rc=0
	wait "$pid" || rc=$?
	expect_status "$tool: the first run completes (exit 0)" 0
	same_tree "$tool: the output equals a single run's" "$T/${tool}_ref" "$T/$tool"
	expect_eq "$tool: nothing is left beside the output" \
		"$(ls -A "$T" | grep -cE "^\\.$tool\\.")" 0
done

# Single-file outputs have no lock: each run writes its own temporary
# file and renames it, so the last rename wins and the file is always
# one run's complete output.
"$GEN" -o "$T/ds2" --scale 0.02 --seed 4 --categories chain_buckle,rabbit_pendant --image-scale 2 >/dev/null 2>&1
mkdir -p "$T/w"
race() {
	_what=$1
	shift
	"$@" "$T/ds" >/dev/null 2>&1 &
	_a=$!
	"$@" "$T/ds2" >/dev/null 2>&1 &
	_b=$!
	_ra=0 _rb=0
	wait $_a || _ra=$?
	wait $_b || _rb=$?
	expect_eq "$_what: both runs exit 0" "$_ra $_rb" "0 0"
}
S_A="$BIN/mirad-stats -a -F json"
$S_A "$T/ds" >"$T/w/stats.a"
$S_A "$T/ds2" >"$T/w/stats.b"
check "the two datasets give different stats" sh -c "! cmp -s '$T/w/stats.a' '$T/w/stats.b'"
$BIN/mirad-split "$T/ds" >"$T/w/split.a" 2>/dev/null
$BIN/mirad-split "$T/ds2" >"$T/w/split.b" 2>/dev/null
for i in 1 2 3; do
	race "stats -o, race $i" $S_A -o "$T/w/stats.json"
	check "stats -o, race $i: the file is one run's complete output" \
		sh -c "cmp -s '$T/w/stats.json' '$T/w/stats.a' || cmp -s '$T/w/stats.json' '$T/w/stats.b'"
	race "split -o, race $i" $BIN/mirad-split -o "$T/w/m.jsonl"
	check "split -o, race $i: the file is one run's complete output" \
		sh -c "cmp -s '$T/w/m.jsonl' '$T/w/split.a' || cmp -s '$T/w/m.jsonl' '$T/w/split.b'"
done
expect_eq "no temporary file is left by the races" "$(temps "$T/w")" ""
# eval: two map sets for one ground truth.
$PY "$MIRAD_SRCDIR/tests/cli/eval_reference.py" gen "$T/mv" "$T/maps2" quant8 8
$E >"$T/w/eval.a"
$BIN/mirad-eval --gt "$T/mv" --maps "$T/maps2" -F json >"$T/w/eval.b"
check "the two map sets give different metrics" sh -c "! cmp -s '$T/w/eval.a' '$T/w/eval.b'"
for i in 1 2 3; do
	$E -o "$T/w/eval.json" >/dev/null 2>&1 &
	a=$!
	$BIN/mirad-eval --gt "$T/mv" --maps "$T/maps2" -F json -o "$T/w/eval.json" >/dev/null 2>&1 &
	b=$!
	ra=0 rb=0
	wait $a || ra=$?
	wait $b || rb=$?
	expect_eq "eval -o, race $i: both runs exit 0" "$ra $rb" "0 0"
	check "eval -o, race $i: the file is one run's complete output" \
		sh -c "cmp -s '$T/w/eval.json' '$T/w/eval.a' || cmp -s '$T/w/eval.json' '$T/w/eval.b'"
done
expect_eq "no temporary file is left by the eval races" "$(temps "$T/w")" ""

done_testing
