#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-stats, full statistics (--all: every image and mask decoded and
# measured) over a MIRAD-shaped sample at a realistic image size, against a
# NumPy/PIL script computing the same measures and flags
# (stats_numpy.py); then the counts-only mode against a header-only Python
# walk (walk_headers.py).  One run each for the full statistics (they take
# minutes), best of BENCH_RUNS for the counts.  Prints times and ratios, and
# checks that both sides agree on the per-category flags, masks and regions.
#
# BENCH_SCALE (default 1: the paper's 4,789 images) and BENCH_IMAGE_SCALE
# (default 10: about 1000x1000 pixels) size the sample.
set -eu
B=${MIRAD_BUILDDIR:?set MIRAD_BUILDDIR to a build tree}
PY=${PYTHON3:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
runs=${BENCH_RUNS:-5}
scale=${BENCH_SCALE:-1}
iscale=${BENCH_IMAGE_SCALE:-10}
. "$here/bench_lib.sh"

"$B/tests/mirad-gen-sample" -o "$W/MIRAD" --scale "$scale" --image-scale "$iscale" --seed 1 >/dev/null
npng=$(find "$W/MIRAD" -type f -name '*.png' | wc -l)
desc="MIRAD --scale $scale --image-scale $iscale ($npng PNG files)"
echo "tree: $npng PNG files," \
	"$(du -sm "$W/MIRAD" | cut -f1) MB (--scale $scale --image-scale $iscale)"
cat "$W"/MIRAD/*/*/*/* >/dev/null # warm the page cache

now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
best() { # best-of-N wall time of a command, in seconds
	b=""
	i=0
	while [ $i -lt "$runs" ]; do
		s=$(now)
		"$@" >/dev/null
		t=$(since "$s")
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}

s=$(now); "$PY" "$here/stats_numpy.py" "$W/MIRAD" | sort >"$W/py.txt"; t_py=$(since "$s")
s=$(now); "$B/src/mirad-stats" --all --format json -j 1 "$W/MIRAD" >"$W/j1.json"; t_j1=$(since "$s")
s=$(now); "$B/src/mirad-stats" --all --format json "$W/MIRAD" >"$W/c.json"; t_c=$(since "$s")
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
geo = {g["category"]: g for g in d["geometry"]["groups"]}
for g in d["imaging"]["groups"]:
    f = g["flags"]
    c = g["category"]
    print(c, g["images"], *(int(f[k]) for k in ("DV", "DI", "DR", "DB")),
          geo[c]["masks"], geo[c]["regions"])
' "$W/c.json" | sort >"$W/c.txt"
if cmp -s "$W/py.txt" "$W/c.txt"; then agree=yes; else agree=NO; diff "$W/py.txt" "$W/c.txt" | head; fi
cmp -s "$W/j1.json" "$W/c.json" && same=yes || same=NO

printf '%-46s %9.3f s\n' "python PIL + NumPy, same measures" "$t_py"
printf '%-46s %9.3f s  (%sx faster)\n' "mirad-stats --all -j 1" "$t_j1" "$(ratio "$t_py" "$t_j1")"
printf '%-46s %9.3f s  (%sx faster)\n' "mirad-stats --all (-j $(nproc))" "$t_c" "$(ratio "$t_py" "$t_c")"
echo "flags, masks and regions agree with the NumPy script: $agree; -j 1 output equals -j $(nproc): $same"
alt="python PIL + NumPy, same measures"
bench_row stats "mirad-stats --all -j 1" "$desc" "$t_j1" "$alt" "$t_py" "one run; results agree: $agree"
bench_row stats "mirad-stats --all -j $(nproc)" "$desc" "$t_c" "$alt" "$t_py" "one run; results agree: $agree; same as -j 1: $same"

# Without the masks: NumPy has no connected-component labelling (scipy is
# not installed), so the pure-Python labelling above dominates its time.
s=$(now); "$PY" "$here/stats_numpy.py" --imaging-only "$W/MIRAD" >/dev/null; t_pyi=$(since "$s")
s=$(now); "$B/src/mirad-stats" --imaging -j 1 "$W/MIRAD" >/dev/null; t_i1=$(since "$s")
s=$(now); "$B/src/mirad-stats" --imaging "$W/MIRAD" >/dev/null; t_i=$(since "$s")
printf '%-46s %9.3f s\n' "python PIL + NumPy, images only" "$t_pyi"
printf '%-46s %9.3f s  (%sx faster)\n' "mirad-stats --imaging -j 1" "$t_i1" "$(ratio "$t_pyi" "$t_i1")"
printf '%-46s %9.3f s  (%sx faster)\n' "mirad-stats --imaging (-j $(nproc))" "$t_i" "$(ratio "$t_pyi" "$t_i")"
alt="python PIL + NumPy, images only"
bench_row stats "mirad-stats --imaging -j 1" "$desc" "$t_i1" "$alt" "$t_pyi" "one run"
bench_row stats "mirad-stats --imaging -j $(nproc)" "$desc" "$t_i" "$alt" "$t_pyi" "one run"

t_walk=$(best "$PY" "$here/walk_headers.py" "$W/MIRAD")
t_counts=$(best "$B/src/mirad-stats" "$W/MIRAD")
printf '%-46s %9.3f s\n' "python os.walk + PIL headers" "$t_walk"
printf '%-46s %9.3f s  (%sx faster)\n' "mirad-stats DIR (counts only)" "$t_counts" "$(ratio "$t_walk" "$t_counts")"
bench_row stats "mirad-stats DIR (counts only)" "$desc" "$t_counts" "python os.walk + PIL headers" "$t_walk" "best of $runs"
