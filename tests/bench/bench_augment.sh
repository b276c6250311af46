#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark: mirad-augment's full effect chain at severity-3 strength
# (tests/bench/bench_augment.json) against the same chain in NumPy/SciPy/PIL
# (bench_augment.py) and in OpenCV (bench_augment_cv2.py; skipped, with the
# reason, when python3 cannot import cv2), each with 2 processes, one run
# each, on two samples: images of about 1 MP and images of about 100 px.
# Prints wall and CPU time, the ratios, peak memory and how close the outputs
# are.  Usage: bench_augment.sh [BUILDDIR] (default: $MIRAD_BUILDDIR or
# _build).  BENCH_SCALE (default 0.01) and BENCH_IMAGE_SCALE (default 10)
# size the large sample, BENCH_SMALL_SCALE (default 0.4, at --image-scale 1)
# the small one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-${MIRAD_BUILDDIR:-$src/_build}}
. "$here/bench_lib.sh"
PY=${PYTHON3:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-augment.XXXXXX")
trap 'rm -rf "$T"' EXIT

if $PY -c 'import cv2' 2>/dev/null; then
	have_cv2=1
else
	have_cv2=0
	echo "OpenCV rows skipped: $PY cannot import cv2 (Debian package python3-opencv)"
fi

secs() { # secs LABEL CMD... -> wall seconds, peak RSS (MiB), CPU seconds
	label=$1
	shift
	/usr/bin/time -v -o "$T/time.$label" "$@" >/dev/null 2>"$T/err.$label" || { cat "$T/err.$label" >&2; exit 1; }
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T/time.$label" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/time.$label")
	cpu=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$T/time.$label" | awk '{ s += $1 } END { print s }')
	echo "$wall $((rss / 1024)) $cpu"
}

closeness() { # closeness MANIFEST DIR_A DIR_B -> mean |a - b| in grey levels
	$PY - "$1" "$2" "$3" <<'PYEOF'
import json, sys
import numpy as np
from PIL import Image
recs = [json.loads(l) for l in open(sys.argv[1])]
d = []
for r in recs:
    a = np.asarray(Image.open(f"{sys.argv[2]}/{r['image']}").convert("RGB")).astype(float)
    b = np.asarray(Image.open(f"{sys.argv[3]}/{r['image']}").convert("RGB")).astype(float)
    d.append(np.abs(a - b).mean())
print(f"{np.mean(d):.2f}")
PYEOF
}

# run_case NAME SCALE IMAGE_SCALE: one sample, mirad-augment and the
# alternatives on it, a result row for each alternative.
run_case() {
	name=$1
	d=$T/$name
	mkdir "$d"
	"$build/tests/mirad-gen-sample" -o "$d/ds" --scale "$2" --image-scale "$3" \
		--categories building_block,chain_buckle,metal_plate >/dev/null
	"$build/src/mirad-split" "$d/ds" >"$d/in.jsonl"
	n=$(wc -l <"$d/in.jsonl")
	size=$($PY -c "
import json
from PIL import Image
px = [Image.open(r['root'] + '/' + r['image']).size for r in map(json.loads, open('$d/in.jsonl'))]
mean = sum(w * h for w, h in px) / len(px)
print('%.2f MP' % (mean / 1e6) if mean >= 1e5 else '%d px' % round(mean ** 0.5))")
	data="$n images of ~$size (3 categories)"
	echo "== $name: $data"

	set -- $(secs "c-$name" "$build/src/mirad-augment" -q -j2 -p "$here/bench_augment.json" -o "$d/c" "$d/in.jsonl")
	c_wall=$1 c_rss=$2 c_cpu=$3
	echo "mirad-augment (-j2):       ${c_wall} s wall, ${c_cpu} s CPU, peak ${c_rss} MiB"
	# PYTHONPATH: bench_augment_cv2.py reuses bench_augment.py's kernels.
	for alt in numpy cv2; do
		if [ "$alt" = numpy ]; then
			script=bench_augment.py label="NumPy/SciPy/PIL (2 processes)"
		else
			[ "$have_cv2" = 1 ] || continue
			script=bench_augment_cv2.py label="OpenCV $($PY -c 'import cv2; print(cv2.__version__)') + NumPy (2 processes)"
		fi
		set -- $(secs "$alt-$name" env PYTHONPATH="$here" $PY "$here/$script" "$d/in.jsonl" "$d/$alt")
		a_wall=$1 a_rss=$2 a_cpu=$3
		printf '%-26s %s s wall, %s s CPU, peak %s MiB (largest process)\n' "$label:" "$a_wall" "$a_cpu" "$a_rss"
		awk -v a="$a_wall" -v b="$c_wall" -v c="$a_cpu" -v d="$c_cpu" \
			'BEGIN { printf "ratio: mirad-augment is %.1fx faster (wall), %.1fx (CPU time)\n", a / b, c / d }'
		echo "same chain: mean |mirad - $alt| = $(closeness "$d/in.jsonl" "$d/c" "$d/$alt") grey levels" \
			"(noise fields and resamplers differ; 0 = identical)"
		bench_row augment "mirad-augment -j2 (severity-3 chain, bench_augment.json, $name images)" \
			"$data" "$c_wall" "$label" "$a_wall" \
			"CPU $c_cpu s vs $a_cpu s; peak $c_rss vs $a_rss MiB; target: ratio >= 3; below it: the profile in tests/bench/README.md"
	done
}

run_case large "${BENCH_SCALE:-0.01}" "${BENCH_IMAGE_SCALE:-10}"
run_case small "${BENCH_SMALL_SCALE:-0.4}" 1
echo "(timings on a shared 2-core machine are noisy)"
