#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks of mirad-split against a Python equivalent (split_equiv.py):
#  1. the native split of the full-scale sample (--scale 1: 4,789 images),
#     dominated by the directory scan and image header reads;
#  2. --val 0.1 --shots 8 over a 100,000-record manifest read from stdin.
# Both check that the two programs choose the same images, then time them
# with hyperfine and print the ratio.  Not part of `make check`.
# Usage: tests/bench/bench_split.sh [BUILDDIR]   (default: _build)
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-${MIRAD_BUILDDIR:-$SRC/_build}}
PY=/usr/bin/python3
EQ=$SRC/tests/bench/split_equiv.py
SPLIT=$B/src/mirad-split
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-split.XXXXXX")
trap 'rm -rf "$T"' EXIT
export LC_ALL=C

# ratio NAME JSON: print "NAME: C mean, Python mean, ratio".
ratio() {
	$PY - "$1" "$2" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[2]))["results"]
c, p = r[0]["mean"], r[1]["mean"]
print(f"{sys.argv[1]}: mirad-split {c*1000:.1f} ms (sd {r[0]['stddev']*1000:.1f}), "
      f"python {p*1000:.1f} ms (sd {r[1]['stddev']*1000:.1f}): python/mirad-split = {p/c:.1f}x")
PYEOF
}

echo "generating the full-scale sample..."
"$B/tests/mirad-gen-sample" -o "$T/full" --scale 1 >/dev/null 2>&1
"$SPLIT" "$T/full" | grep -o '"image":"[^"]*","mask":[^,]*' | sort >"$T/c.list"
$PY "$EQ" scan "$T/full" | grep -o '"image":"[^"]*","mask":[^,]*' | sort >"$T/p.list"
cmp -s "$T/c.list" "$T/p.list" || { echo "the scans differ" >&2; exit 1; }
echo "scan: both list $(wc -l <"$T/c.list") images with the same masks"
hyperfine -w 1 -r 5 --export-json "$T/scan.json" \
	"$SPLIT $T/full" "$PY $EQ scan $T/full" >/dev/null
ratio "full-scale scan (native split)" "$T/scan.json"
hyperfine -w 1 -r 5 --export-json "$T/scan2.json" \
	"$SPLIT --no-sizes $T/full" "$PY $EQ scan $T/full" >/dev/null
ratio "full-scale scan, --no-sizes vs python with sizes" "$T/scan2.json"

$PY "$EQ" make 100000 >"$T/big.jsonl"
"$SPLIT" --val 0.1 --shots 8 - <"$T/big.jsonl" | grep -v mirad_manifest |
	grep -o '"split":"[a-z]*","label":"[a-z]*","defect":"[a-z]*","image":"[^"]*"' | sort >"$T/c.list"
$PY "$EQ" shots 8 0.1 0 <"$T/big.jsonl" | grep -v mirad_manifest |
	grep -o '"split":"[a-z]*","label":"[a-z]*","defect":"[a-z]*","image":"[^"]*"' | sort >"$T/p.list"
cmp -s "$T/c.list" "$T/p.list" || { echo "the 100k splits differ" >&2; exit 1; }
echo "100k manifest: both keep $(wc -l <"$T/c.list") records, the same ones"
hyperfine -w 1 -r 5 --export-json "$T/big.json" \
	"$SPLIT --val 0.1 --shots 8 - <$T/big.jsonl >/dev/null" \
	"$PY $EQ shots 8 0.1 0 <$T/big.jsonl >/dev/null" >/dev/null
ratio "100,000-record manifest from stdin (--val 0.1 --shots 8)" "$T/big.json"
echo "(timings on a shared 2-core machine are noisy)"
