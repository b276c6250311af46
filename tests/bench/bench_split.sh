#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks of mirad-split against a Python equivalent (split_equiv.py):
#  1. the native split of the full-scale sample (--scale 1: 4,789 images),
#     dominated by the directory scan and image header reads;
#  2. --val 0.1 --shots 8 over a 100,000-record manifest read from stdin.
# Both check that the two programs choose the same images, then time them
# with hyperfine and print the ratio.  Not part of `make check`.
# Usage: tests/bench/bench_split.sh [BUILDDIR]   (default: $MIRAD_BUILDDIR
# or _build).  BENCH_SCALE (default 1) sizes the sample, BENCH_RECORDS
# (default 100000; at least 3000) the manifest, BENCH_RUNS (default 5) the
# runs hyperfine averages.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-${MIRAD_BUILDDIR:-$SRC/_build}}
PY=/usr/bin/python3
EQ=$SRC/tests/bench/split_equiv.py
SPLIT=$B/src/mirad-split
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-split.XXXXXX")
trap 'rm -rf "$T"' EXIT
export LC_ALL=C
. "$SRC/tests/bench/bench_lib.sh"
scale=${BENCH_SCALE:-1}
records=${BENCH_RECORDS:-100000}
runs=${BENCH_RUNS:-5}

# ratio NAME JSON CASE DATA: print "NAME: C mean, Python mean, ratio"; the
# result row names CASE and DATA.
ratio() {
	$PY - "$1" "$2" "$T/means" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[2]))["results"]
c, p = r[0]["mean"], r[1]["mean"]
sd = [x["stddev"] * 1000 if x["stddev"] is not None else float("nan") for x in r]
print(f"{sys.argv[1]}: mirad-split {c*1000:.1f} ms (sd {sd[0]:.1f}), "
      f"python {p*1000:.1f} ms (sd {sd[1]:.1f}): python/mirad-split = {p/c:.1f}x")
open(sys.argv[3], "w").write(f"{c:.4f} {p:.4f} {sd[0]:.1f} {sd[1]:.1f}\n")
PYEOF
	read -r _c _p _sc _sp <"$T/means"
	bench_row split "$3" "$4" "$_c" "python split_equiv.py" "$_p" "hyperfine mean of $runs (sd $_sc / $_sp ms)"
}

echo "generating the full-scale sample..."
"$B/tests/mirad-gen-sample" -o "$T/full" --scale "$scale" >/dev/null 2>&1
"$SPLIT" "$T/full" | grep -o '"image":"[^"]*","mask":[^,]*' | sort >"$T/c.list"
$PY "$EQ" scan "$T/full" | grep -o '"image":"[^"]*","mask":[^,]*' | sort >"$T/p.list"
cmp -s "$T/c.list" "$T/p.list" || { echo "the scans differ" >&2; exit 1; }
nimg=$(wc -l <"$T/c.list")
echo "scan: both list $nimg images with the same masks"
hyperfine -w 1 -r "$runs" --export-json "$T/scan.json" \
	"$SPLIT $T/full" "$PY $EQ scan $T/full" >/dev/null
ratio "full-scale scan (native split)" "$T/scan.json" "mirad-split DIR" "MIRAD --scale $scale ($nimg images)"
hyperfine -w 1 -r "$runs" --export-json "$T/scan2.json" \
	"$SPLIT --no-sizes $T/full" "$PY $EQ scan $T/full" >/dev/null
ratio "full-scale scan, --no-sizes vs python with sizes" "$T/scan2.json" "mirad-split --no-sizes DIR (python reads sizes)" "MIRAD --scale $scale ($nimg images)"

$PY "$EQ" make "$records" >"$T/big.jsonl"
"$SPLIT" --val 0.1 --shots 8 - <"$T/big.jsonl" | grep -v mirad_manifest |
	grep -o '"split":"[a-z]*","label":"[a-z]*","defect":"[a-z]*","image":"[^"]*"' | sort >"$T/c.list"
$PY "$EQ" shots 8 0.1 0 <"$T/big.jsonl" | grep -v mirad_manifest |
	grep -o '"split":"[a-z]*","label":"[a-z]*","defect":"[a-z]*","image":"[^"]*"' | sort >"$T/p.list"
cmp -s "$T/c.list" "$T/p.list" || { echo "the $records-record splits differ" >&2; exit 1; }
echo "$records-record manifest: both keep $(wc -l <"$T/c.list") records, the same ones"
hyperfine -w 1 -r "$runs" --export-json "$T/big.json" \
	"$SPLIT --val 0.1 --shots 8 - <$T/big.jsonl >/dev/null" \
	"$PY $EQ shots 8 0.1 0 <$T/big.jsonl >/dev/null" >/dev/null
ratio "$records-record manifest from stdin (--val 0.1 --shots 8)" "$T/big.json" \
	"mirad-split --val 0.1 --shots 8 - (manifest on stdin)" "$records-record manifest"
echo "(timings on a shared 2-core machine are noisy)"
