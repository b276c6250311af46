#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-split and mirad-stats (counts only) over a full-scale MIRAD-shaped
# tree (4,789 images + 1,737 masks) against a Python os.walk + PIL header
# script on the same tree.  Both read every image and mask header; neither
# decodes pixels.  Prints the times and the ratio.  BENCH_SCALE (default 1)
# sizes the tree, BENCH_RUNS (default 5) the best-of-N.
set -eu
B=${MIRAD_BUILDDIR:?set MIRAD_BUILDDIR to a build tree}
PY=${PYTHON3:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
runs=${BENCH_RUNS:-5}
scale=${BENCH_SCALE:-1}
. "$here/bench_lib.sh"

"$B/tests/mirad-gen-sample" -o "$W/MIRAD" --scale "$scale" --seed 1
npng=$(find "$W/MIRAD" -type f -name '*.png' | wc -l)
echo "tree: $npng PNG files"
data="MIRAD --scale $scale ($npng PNG files)"

# Warm the page cache once so every contender reads from memory.
cat "$W"/MIRAD/*/*/*/* >/dev/null

best() { # best-of-N wall time of a command, in seconds
	b=""
	i=0
	while [ $i -lt "$runs" ]; do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}

t_py=$(best "$PY" "$here/walk_headers.py" "$W/MIRAD")
t_split=$(best "$B/src/mirad-split" "$W/MIRAD")
t_stats=$(best "$B/src/mirad-stats" --check-sizes "$W/MIRAD")
t_fast=$(best "$B/src/mirad-stats" "$W/MIRAD")

printf '%-44s %8.3f s\n' "python os.walk + PIL headers" "$t_py"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
printf '%-44s %8.3f s  (%sx faster)\n' "mirad-split DIR (headers)" "$t_split" "$(ratio "$t_py" "$t_split")"
printf '%-44s %8.3f s  (%sx faster)\n' "mirad-stats --check-sizes DIR (headers)" "$t_stats" "$(ratio "$t_py" "$t_stats")"
printf '%-44s %8.3f s  (%sx faster)\n' "mirad-stats DIR (counts: entries only)" "$t_fast" "$(ratio "$t_py" "$t_fast")"
alt="python os.walk + PIL headers"
bench_row foundation "mirad-split DIR (headers)" "$data" "$t_split" "$alt" "$t_py" "best of $runs; target: ratio >= 5"
bench_row foundation "mirad-stats --check-sizes DIR (headers)" "$data" "$t_stats" "$alt" "$t_py" "best of $runs; target: ratio >= 5"
bench_row foundation "mirad-stats DIR (counts: entries only)" "$data" "$t_fast" "$alt" "$t_py" "best of $runs"
