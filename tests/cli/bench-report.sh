#!/bin/sh
# SPDX-License-Identifier: MIT
# The performance report generator (tests/bench/report.sh) in quick mode:
# every benchmark runs on tiny data, so the benchmarks, their result rows and
# the report cannot rot.  The times themselves are not checked.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

missing=""
for c in bsdtar hyperfine; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
"$PY" -c 'import numpy, PIL, scipy, sklearn' 2>/dev/null || missing="$missing numpy/PIL/scipy/sklearn"
if [ -n "$missing" ]; then
	echo "1..0 # SKIP the benchmarks need:$missing"
	exit 0
fi

# The quick sizes, whatever the caller's shell has set.
unset BENCH_RUNS BENCH_SCALE BENCH_IMAGE_SCALE BENCH_SMALL_SCALE BENCH_VISA_IMAGE_SCALE BENCH_RECORDS \
	BENCH_FACTORS BENCH_IMAGE_SCALES BENCH_REPEAT_BUDGET BENCH_TOOL_ONLY BENCH_DIR \
	MIRAD_BENCH_ONLY MIRAD_BENCH_RESULTS

# The benchmarks time the tools on what their own scripts leak-check.
leak_checks off

REPORT=$MIRAD_SRCDIR/tests/bench/REPORT.md
before=$(cksum "$REPORT" "${REPORT%.md}.tsv" 2>&1)
mkdir "$T/tmp"
rc=0
TMPDIR=$T/tmp MIRAD_BENCH_QUICK=1 MIRAD_BENCH_REPORT=$T/r/REPORT.md \
	sh "$MIRAD_SRCDIR/tests/bench/report.sh" >"$T/out" 2>"$T/err" || rc=$?
expect_status "report.sh (quick mode) exits 0" 0
R=$T/r/REPORT.md
TSV=$T/r/REPORT.tsv
check "the report is written where MIRAD_BENCH_REPORT says" test -s "$R"
check "the result rows are written beside it" test -s "$TSV"
expect_eq "the source tree's report is left alone" "$(cksum "$REPORT" "${REPORT%.md}.tsv" 2>&1)" "$before"
expect_eq "the benchmarks leave nothing in TMPDIR" "$(ls -A "$T/tmp")" ""
expect_grep "report.sh names the file it wrote" "^report: wrote $R and $TSV in [0-9]+ s$" "$T/err"

for s in "# mirad-tools performance report" "## Machine" "## Benchmarks run" "## Results" \
	"## Cost against the number of images" "## Cost against the image size" \
	"## Output of each benchmark"; do
	expect_grep "section: $s" "^$s\$" "$R"
done
expect_grep "quick mode is said" '^\*\*Quick mode\*\*' "$R"
expect_grep "load average before and after" \
	'^\*\*Load average\*\* \(1, 5, 15 min\): [0-9.]+ [0-9.]+ [0-9.]+ before, [0-9.]+ [0-9.]+ [0-9.]+ after\.' "$R"
expect_grep "machine: cores" '^\| cores \| [1-9][0-9]* \|$' "$R"
expect_grep "machine: memory" '^\| memory \| [0-9.]+ GiB \|$' "$R"
expect_grep "machine: CPU model" '^\| CPU \| [^ |-][^|]* \|$' "$R"
expect_grep "machine: tool and library versions" '^\| libraries \| libvips [0-9]+\.[0-9]+' "$R"
expect_grep "machine: Python side versions" '^\| Python side \| Python 3\.[0-9.]+, Pillow [0-9.]+, NumPy [0-9.]+' "$R"

num='[0-9]+(\.[0-9]+)?'
for b in foundation split stats fetch convert augment eval scaling; do
	expect_grep "bench_$b.sh ran and succeeded" "^\\| \`bench_$b.sh\` \\| [^|]+ \\| [^|]+ \\| $num \\| ok \\|\$" "$R"
done
for b in foundation split stats fetch convert augment eval; do
	expect_grep "results: a $b row with times and the ratio" \
		"^\\| $b \\| \`[^|]+\` \\| [^|]+ \\| $num \\| [^|-][^|]* \\| $num \\| $num \\| [^|]+ \\|\$" "$R"
done

for n in 64 256; do
	expect_grep "results: convert --resize $n against the PIL script" \
		"^\\| convert \\| \`mirad-convert --to mvtec --resize $n\` \\| [^|]+ \\| $num \\| PIL resize script [^|]+ \\| $num \\| $num \\| [^|]+ \\|\$" "$R"
done
expect_grep "results: the copy row says where it copied" \
	"^\\| convert \\| \`mirad-convert --to mvtec --link copy\` \\| [^|]+ \\| $num \\| cp -r \\| $num \\| $num \\| best of [0-9]+, each run (on a new tmpfs|in a new folder in /dev/shm|in the work folder \\(no tmpfs\\)); [^|]+ \\|\$" "$R"
# Augment: a row per sample (~1 MP, ~100 px) and contender (NumPy, and
# OpenCV where python3 has cv2).
naug=2
"$PY" -c 'import cv2' 2>/dev/null && naug=4
expect_eq "augment: one row per sample and contender" "$(grep -c '^augment	' "$TSV")" "$naug"
expect_grep "augment: the large-image sample" '^augment	[^	]*large images\)	[0-9]+ images of ~[0-9.]+ (MP|px) ' "$TSV"
expect_grep "augment: the ~100 px sample" '^augment	[^	]*small images\)	[0-9]+ images of ~[0-9]+ px ' "$TSV"

# Scaling: the summary tables have a time at every factor, the growth after
# the first; the detailed tables a per-image cost.
for j in "mirad-split DIR" "mirad-stats DIR \\(counts\\)" "mirad-stats --all DIR" \
	"mirad-convert --to mvtec \\(copy\\)" "mirad-convert --to mvtec --resize 64" \
	"mirad-augment -p node1 -s 3" "mirad-eval \\(all metrics\\)" "mirad-fetch --archive \\.tar\\.gz"; do
	expect_grep "count summary: $j at 1x, 4x, 16x" \
		"^\\| $j \\| $num s \\| $num s \\($num""x\\) \\| $num s \\($num""x\\) \\|\$" "$R"
done
expect_grep "count summary header" '^\| job \| 1x \| 4x \| 16x \|$' "$R"
expect_grep "size summary header" '^\| job \| image-scale 1 \| image-scale 2 \|$' "$R"
expect_grep "count detail: split at 16x with its alternative" \
	"^\\| mirad-split DIR \\| 16x \\| [0-9]+ \\| $num \\| $num \\| $num""x \\| python split_equiv.py scan \\| $num \\| $num \\|\$" "$R"
expect_grep "count detail: cp -r against convert" \
	"^\\| mirad-convert --to mvtec \\(copy\\) \\| 4x \\| [0-9]+ \\| $num \\| $num \\| $num""x \\| cp -r \\| $num \\| $num \\|\$" "$R"
expect_grep "size detail: augment at image-scale 2, pixels grown about 4x" \
	"^\\| mirad-augment -p node1 -s 3 \\| 2 \\| [0-9]+ \\| [0-9]+x[0-9]+ px \\| [345]x \\| $num \\| $num \\| $num \\| $num""x \\| - \\| - \\| - \\|\$" "$R"

# The rows: 8 fields, or 11 for the scaling ones; every ratio is alt / mirad.
expect_eq "REPORT.tsv header" "$(head -n 1 "$TSV")" \
	"$(printf 'benchmark\tcase\tdata\tmirad_seconds\talternative\talt_seconds\tratio\tnote\tscale\timages\tpixels')"
expect_eq "every row has 8 fields (11 for scaling)" "$(awk -F'\t' 'NR > 1 && !(NF == 8 || ($1 ~ /^scaling-/ && NF == 11))' "$TSV")" ""
expect_eq "every ratio is alt_seconds / mirad_seconds" "$(awk -F'\t' 'NR > 1 && $6 != "-" {
	r = $6 / $4; if ($7 < r * 0.99 - 0.001 || $7 > r * 1.01 + 0.001) print }' "$TSV")" ""
expect_eq "count axis: 8 jobs x 3 factors" "$(grep -c '^scaling-count	' "$TSV")" 24
expect_eq "size axis: 5 jobs x 2 image scales" "$(grep -c '^scaling-size	' "$TSV")" 10
expect_eq "image counts grow with the factor" "$(awk -F'\t' '$1 == "scaling-count" && $2 == "mirad-split DIR" {
	if (first == "") first = $10; else if ($10 < last) print "shrinks"; last = $10 }
	END { if (last <= first) print "no growth" }' "$TSV")" ""
expect_eq "image-scale 1 is the count axis' 1x measurement" \
	"$(awk -F'\t' '$2 == "mirad-eval (all metrics)" && $9 == 1 { print $4 }' "$TSV" | sort -u | wc -l)" 1

# Failures: an unknown benchmark is a usage error; a failing benchmark
# still gives a report that says so, and status 1.
run env MIRAD_BENCH_ONLY=nosuch MIRAD_BENCH_REPORT="$T/x.md" sh "$MIRAD_SRCDIR/tests/bench/report.sh"
expect_status "unknown benchmark: status 2" 2
expect_grep "unknown benchmark: named" "^report.sh: no benchmark named 'nosuch'" "$T/err"
check "unknown benchmark: no report" test ! -e "$T/x.md"
mkdir -p "$T/nobuild/src"
printf '#!/bin/sh\nexit 3\n' >"$T/nobuild/src/mirad-stats"
chmod +x "$T/nobuild/src/mirad-stats"
run env TMPDIR="$T/tmp" MIRAD_BUILDDIR="$T/nobuild" MIRAD_BENCH_ONLY=foundation MIRAD_BENCH_QUICK=1 \
	MIRAD_BENCH_REPORT="$T/f/REPORT.md" sh "$MIRAD_SRCDIR/tests/bench/report.sh"
expect_status "a failing benchmark: status 1" 1
expect_grep "a failing benchmark: the report says so" '^\| `bench_foundation.sh` \| .* \| \*\*failed\*\* \(status [1-9][0-9]*\) \|$' "$T/f/REPORT.md"
expect_grep "a failing benchmark: its output is in the report" "mirad-gen-sample" "$T/f/REPORT.md"

done_testing
