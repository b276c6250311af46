#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark: mirad-augment's full effect chain at severity-3 strength
# (tests/bench/bench_augment.json) over the sample at realistic size, against
# the same chain in NumPy/SciPy/PIL (bench_augment.py, 2 processes), one
# run each; prints wall time, the ratio, peak memory and how close the two
# outputs are.  Usage: bench_augment.sh [BUILDDIR] (default: $MIRAD_BUILDDIR
# or _build).  BENCH_SCALE (default 0.01) and BENCH_IMAGE_SCALE (default 10)
# size the sample.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-${MIRAD_BUILDDIR:-$src/_build}}
. "$here/bench_lib.sh"
PY=${PYTHON3:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-augment.XXXXXX")
trap 'rm -rf "$T"' EXIT

"$build/tests/mirad-gen-sample" -o "$T/ds" --scale "${BENCH_SCALE:-0.01}" --image-scale "${BENCH_IMAGE_SCALE:-10}" \
	--categories building_block,chain_buckle,metal_plate >/dev/null
"$build/src/mirad-split" "$T/ds" >"$T/in.jsonl"
n=$(wc -l <"$T/in.jsonl")
mp=$($PY -c "
import json
from PIL import Image
px = [Image.open(r['root'] + '/' + r['image']).size for r in map(json.loads, open('$T/in.jsonl'))]
print('%.2f' % (sum(w * h for w, h in px) / len(px) / 1e6))")
echo "images: $n, mean size ${mp} MP"

secs() { # secs LABEL CMD... -> wall seconds and peak RSS (MiB)
	label=$1
	shift
	/usr/bin/time -v -o "$T/time.$label" "$@" >/dev/null 2>"$T/err.$label" || { cat "$T/err.$label" >&2; exit 1; }
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T/time.$label" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/time.$label")
	cpu=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$T/time.$label" | awk '{ s += $1 } END { print s }')
	echo "$wall $((rss / 1024)) $cpu"
}

set -- $(secs c "$build/src/mirad-augment" -q -j2 -p "$here/bench_augment.json" -o "$T/c" "$T/in.jsonl")
c_wall=$1 c_rss=$2 c_cpu=$3
set -- $(secs py $PY "$here/bench_augment.py" "$T/in.jsonl" "$T/py")
py_wall=$1 py_rss=$2 py_cpu=$3
echo "mirad-augment (-j2):       ${c_wall} s wall, ${c_cpu} s CPU, peak ${c_rss} MiB"
echo "NumPy/SciPy/PIL (2 procs): ${py_wall} s wall, ${py_cpu} s CPU, peak ${py_rss} MiB (largest process)"
awk -v a="$py_wall" -v b="$c_wall" -v c="$py_cpu" -v d="$c_cpu" \
	'BEGIN { printf "ratio: mirad-augment is %.1fx faster (wall), %.1fx (CPU time)\n", a / b, c / d }'
bench_row augment "mirad-augment -j2 (severity-3 chain, bench_augment.json)" \
	"$n images of $mp MP (3 categories)" "$c_wall" "NumPy/SciPy/PIL (2 processes)" "$py_wall" \
	"CPU $c_cpu s vs $py_cpu s; peak $c_rss vs $py_rss MiB"
$PY - "$T/in.jsonl" "$T/c" "$T/py" <<'PYEOF'
import json, sys
import numpy as np
from PIL import Image
recs = [json.loads(l) for l in open(sys.argv[1])]
d = []
for r in recs:
    a = np.asarray(Image.open(f"{sys.argv[2]}/{r['image']}").convert("RGB")).astype(float)
    b = np.asarray(Image.open(f"{sys.argv[3]}/{r['image']}").convert("RGB")).astype(float)
    d.append(np.abs(a - b).mean())
print(f"same chain: mean |mirad - numpy| = {np.mean(d):.2f} grey levels "
      f"(noise fields and resamplers differ; 0 = identical)")
PYEOF
echo "(timings on a shared 2-core machine are noisy)"
