#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark: mirad-eval against scikit-learn + the NumPy MVTec AU-PRO for
# P-AUROC and AU-PRO on the same float32 TIFF maps.  Not part of make check.
#   tests/bench/bench_eval.sh [N_MAPS] [SIZE]     (default 2000 512)
# BENCH_TOOL_ONLY=1 times mirad-eval alone (for sizes Python cannot hold).
# Run from the build directory (or set MIRAD_BUILDDIR).  The Python side
# needs about 40 bytes per pixel: 2,000 maps of 512x512 need ~20 GB, so on a
# shared machine run a smaller N and say so.
set -eu
N=${1:-2000}
SIZE=${2:-512}
BUILD=${MIRAD_BUILDDIR:-$(pwd)}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON3:-/usr/bin/python3}
EVAL=$BUILD/src/mirad-eval
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-eval.XXXXXX")
trap 'rm -rf "$W"' EXIT
. "$HERE/bench_lib.sh"

echo "# generating $N maps of ${SIZE}x${SIZE} (float32 TIFF) in $W"
$PY "$HERE/bench_eval.py" data "$W" "$N" "$SIZE" 1
sync

peak() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$1"; }
wall() { sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1"; }

echo "# mirad-eval"
/usr/bin/time -v "$EVAL" --gt "$W/ds" --maps "$W/maps" -F json -q \
	--metrics p-auroc,aupro >"$W/tool.json" 2>"$W/tool.time"
t_tool=$(wall "$W/tool.time")
if [ "${BENCH_TOOL_ONLY:-0}" = 1 ]; then
	echo "tool only: $N maps of ${SIZE}x${SIZE}: wall $t_tool, cpu $(cpu "$W/tool.time") s, peak RSS $(peak "$W/tool.time") KiB"
	"$PY" -c "import json,sys; c=json.load(open(sys.argv[1]))['categories'][0]; print('P-AUROC %.15f AU-PRO %.15f pixels %d' % (c['p-auroc'], c['aupro'], c['pixels']))" "$W/tool.json"
	bench_row eval "mirad-eval --metrics p-auroc,aupro" "$N float32 TIFF maps of ${SIZE}x${SIZE}" \
		"$(bench_secs "$t_tool")" - - "one run; CPU $(cpu "$W/tool.time") s; peak $(($(peak "$W/tool.time") / 1024)) MiB"
	exit 0
fi
echo "# python (sklearn roc_auc_score + NumPy MVTec AU-PRO)"
/usr/bin/time -v "$PY" "$HERE/bench_eval.py" python "$W" 0.3 \
	>"$W/py.json" 2>"$W/py.time"
t_py=$(wall "$W/py.time")

"$PY" - "$W/tool.json" "$W/py.json" "$t_tool" "$t_py" \
	"$(peak "$W/tool.time")" "$(peak "$W/py.time")" "$N" "$SIZE" \
	"$(cpu "$W/tool.time")" "$(cpu "$W/py.time")" <<'PYEOF'
import json, sys
tool = json.load(open(sys.argv[1]))["categories"][0]
py = json.load(open(sys.argv[2]))
def secs(s):
    parts = [float(p) for p in s.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
tt, tp = secs(sys.argv[3]), secs(sys.argv[4])
mt, mp = int(sys.argv[5]) / 1024, int(sys.argv[6]) / 1024
n, size = int(sys.argv[7]), int(sys.argv[8])
px = n * size * size
print("pixels           %d (%d maps of %dx%d)" % (px, n, size, size))
print("P-AUROC          tool %.15f  sklearn %.15f  diff %.1e" %
      (tool["p-auroc"], py["p-auroc"], abs(tool["p-auroc"] - py["p-auroc"])))
print("AU-PRO           tool %.15f  MVTec   %.15f  diff %.1e" %
      (tool["aupro"], py["aupro"], abs(tool["aupro"] - py["aupro"])))
print("time (wall)      tool %.2f s   python %.2f s (read %.1f, auroc %.1f, aupro %.1f)" %
      (tt, tp, py["read_s"], py["auroc_s"], py["aupro_s"]))
print("peak RSS         tool %.0f MiB (%.1f B/px)   python %.0f MiB (%.1f B/px)" %
      (mt, mt * 1048576 / px, mp, mp * 1048576 / px))
ct, cp = float(sys.argv[9]), float(sys.argv[10])
print("time (cpu)       tool %.2f s   python %.2f s" % (ct, cp))
print("speed-up         %.1fx wall, %.1fx cpu (shared machine: wall times are noisy)" % (tp / tt, cp / ct))
PYEOF
bench_row eval "mirad-eval --metrics p-auroc,aupro" "$N float32 TIFF maps of ${SIZE}x${SIZE}" \
	"$(bench_secs "$t_tool")" "scikit-learn roc_auc_score + NumPy MVTec AU-PRO" "$(bench_secs "$t_py")" \
	"one run; CPU $(cpu "$W/tool.time") s vs $(cpu "$W/py.time") s; peak $(($(peak "$W/tool.time") / 1024)) vs $(($(peak "$W/py.time") / 1024)) MiB"
