#!/bin/sh
# SPDX-License-Identifier: MIT
# How each tool's cost grows with the number of images and with their size.
#
#  count axis: the bundled sample (mirad-gen-sample --scale 0.1, as in
#    examples/quickstart.sh: 479 images of about 100x100 px) at 1x, 4x and
#    16x its counts (--scale 0.1, 0.4, 1.6), for each tool's main job:
#    mirad-split DIR (the manifest), mirad-stats DIR (counts), mirad-stats
#    --all (imaging measures), mirad-convert --to mvtec (copy) and --resize
#    64, mirad-augment (profile node1, severity 3), mirad-eval (float32
#    TIFF maps of every test image, all metrics) and mirad-fetch --archive
#    (the generator's .tar.gz); where tests/bench/ has a cheap alternative
#    (the Python walks, cp -r, the PIL resize script, bsdtar) it runs too;
#  size axis: the 1x counts at --image-scale 1, 2, 4 and 8 (about 100 to
#    900 px a side) for the image-heavy jobs (split, stats --all, convert
#    --resize, augment, eval); image-scale 1 is the count axis' 1x tree,
#    with the same times.
#
# Prints seconds, milliseconds per image and the growth against 1x (linear
# cost shows as 4x and 16x; on the size axis the pixels grow 4x, 16x, 64x).
# Each time is the best of up to BENCH_RUNS runs (default 3), with no more
# repeats once a measurement has used BENCH_REPEAT_BUDGET seconds (default
# 3): long jobs run once.  Output folders are removed between runs
# (untimed); the page cache is warmed first.  8 to 10 minutes on the shared
# 2-core development machine (about 10 minutes of CPU time).  BENCH_SCALE (default 0.1) is the 1x sample, BENCH_FACTORS
# (default "1 4 16") and BENCH_IMAGE_SCALES (default "1 2 4 8") the axes;
# the work folder is in $BENCH_DIR (default $TMPDIR or /tmp).
set -eu
B=${MIRAD_BUILDDIR:?set MIRAD_BUILDDIR to a build tree}
PY=${PYTHON3:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
W=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-scaling.XXXXXX")
trap 'rm -rf "$W"' EXIT
base=${BENCH_SCALE:-0.1}
runs=${BENCH_RUNS:-3}
budget=${BENCH_REPEAT_BUDGET:-3}
factors=${BENCH_FACTORS:-1 4 16}
iscales=${BENCH_IMAGE_SCALES:-1 2 4 8}
first_factor=${factors%% *}
first_iscale=${iscales%% *}
GEN=$B/tests/mirad-gen-sample
S=$B/src
command -v bsdtar >/dev/null || { echo "bsdtar not found (libarchive-tools)"; exit 1; }

now() { date +%s.%N; }
# best OUT CMD...: best wall seconds of CMD (output folder OUT removed before
# each run, untimed); stops after $runs runs or once $budget s are used.
best() {
	_out=$1
	shift
	_b=""
	_used=0
	_i=0
	while [ $_i -lt "$runs" ]; do
		rm -rf "$_out"
		_s=$(now)
		"$@" >/dev/null 2>"$W/err" || {
			echo "failed: $*" >&2
			cat "$W/err" >&2
			exit 1
		}
		_e=$(now)
		rm -rf "$_out"
		read -r _b _used _stop <<-EOF
			$(awk -v s="$_s" -v e="$_e" -v b="$_b" -v u="$_used" -v max="$budget" 'BEGIN {
				t = e - s; if (b == "" || t < b) b = t; u += t
				printf "%.4f %.4f %d\n", b, u, (u >= max) }')
		EOF
		_i=$((_i + 1))
		[ "$_stop" = 0 ] || break
	done
	echo "$_b"
}
bsd() { mkdir -p "$2" && bsdtar -xf "$1" -C "$2"; }
maps() { "$S/mirad-split" "$1" | "$PY" "$here/scaling_maps.py" "$2"; }

# measure AXIS FACTOR KEY JOB ALT MIRAD_S ALT_S: print a line, keep the
# first factor's time as the growth base, write the result row.
measure() {
	_axis=$1 _f=$2 _key=$3 _job=$4 _alt=$5 _t=$6 _ta=$7
	case "$_t/$_ta" in
	*[!0-9./-]* | /* | */) echo "$_job: no time (failed run above)" >&2; exit 1 ;;
	esac
	[ -f "$W/base.$_axis.$_key" ] || echo "$_t" >"$W/base.$_axis.$_key"
	read -r _base <"$W/base.$_axis.$_key"
	if [ "$_axis" = count ]; then
		_fx=${_f}x _d="${_f}x the sample: $n images of ~$px px"
	else
		_fx=$_f _d="--image-scale $_f: $n images of ~$px px"
	fi
	awk -v f="$_fx" -v job="$_job" -v n="$n" -v t="$_t" -v b="$_base" -v alt="$_alt" -v a="$_ta" 'BEGIN {
		printf "%-6s %-40s %5d img %9.3f s %8.3f ms/img  x%-6.1f", f, job, n, t, t * 1000 / n, t / b
		if (alt != "-") printf " | %s %.3f s (%.2fx)", alt, a, a / t
		printf "\n" }'

	bench_row "scaling-$_axis" "$_job" "$_d" "$_t" "$_alt" "$_ta" "best of up to $runs" "$_f" "$n" "$pixels"
	[ "$_axis/$_f" != "count/$first_factor" ] || echo "$_t $_ta" >"$W/first.$_key"
}
# again AXIS FACTOR KEY JOB ALT: the times measured first (the same tree)
again() {
	read -r _t _ta <"$W/first.$3"
	measure "$@" "$_t" "$_ta"
}

# describe DIR: set n (images), pixels (mean per image) and px (WxH).
describe() {
	find "$1" -type f -exec cat {} + >/dev/null # warm the page cache
	"$S/mirad-split" "$1" >"$W/manifest.jsonl"
	n=$(wc -l <"$W/manifest.jsonl")
	set -- $(grep -o '"width":[0-9]*,"height":[0-9]*' "$W/manifest.jsonl" | tr -c '0-9\n' ' ' |
		awk '{ w += $1; h += $2; p += $1 * $2 } END { printf "%.0f %.0f %.0f\n", p / NR, w / NR, h / NR }')
	pixels=$1 px="${2}x$3"
}

AUG="$S/mirad-augment -q -p node1 -s 3"
J_SPLIT="mirad-split DIR"
J_COUNTS="mirad-stats DIR (counts)"
J_ALL="mirad-stats --all DIR"
J_COPY="mirad-convert --to mvtec (copy)"
J_RESIZE="mirad-convert --to mvtec --resize 64"
J_AUG="mirad-augment -p node1 -s 3"
J_EVAL="mirad-eval (all metrics)"
J_FETCH="mirad-fetch --archive .tar.gz"
A_WALK="python walk_headers.py"
A_RESIZE="PIL resize script"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); 1x = --scale $base"
echo "== cost against the number of images (count factor, --image-scale 1)"
for f in $factors; do
	D=$W/count$f/MIRAD
	mkdir -p "$W/count$f"
	"$GEN" -o "$D" --scale "$(awk -v b="$base" -v f="$f" 'BEGIN { print b * f }')" --seed 1 \
		--archive "$W/count$f/MIRAD.tar.gz" >/dev/null 2>&1
	describe "$D"
	maps "$D" "$W/count$f/maps"
	O=$W/out
	measure count "$f" split "$J_SPLIT" "python split_equiv.py scan" \
		"$(best "$O" "$S/mirad-split" "$D")" "$(best "$O" "$PY" "$here/split_equiv.py" scan "$D")"
	measure count "$f" counts "$J_COUNTS" "$A_WALK" \
		"$(best "$O" "$S/mirad-stats" "$D")" "$(best "$O" "$PY" "$here/walk_headers.py" "$D")"
	measure count "$f" all "$J_ALL" - "$(best "$O" "$S/mirad-stats" --all "$D")" -
	measure count "$f" copy "$J_COPY" "cp -r" \
		"$(best "$O" "$S/mirad-convert" -q --to mvtec -o "$O" "$D")" "$(best "$O" cp -r "$D" "$O")"
	measure count "$f" resize "$J_RESIZE" "$A_RESIZE" \
		"$(best "$O" "$S/mirad-convert" -q --to mvtec --resize 64 -o "$O" "$D")" \
		"$(best "$O" "$PY" "$here/bench_convert_resize.py" "$D" "$O" 64)"
	measure count "$f" augment "$J_AUG" - "$(best "$O" $AUG -o "$O" "$D")" -
	measure count "$f" eval "$J_EVAL" - \
		"$(best "$O" "$S/mirad-eval" -q --gt "$D" --maps "$W/count$f/maps")" -
	measure count "$f" fetch "$J_FETCH" "bsdtar -xf" \
		"$(best "$O" "$S/mirad-fetch" -q --archive "$W/count$f/MIRAD.tar.gz" -o "$O")" \
		"$(best "$O" bsd "$W/count$f/MIRAD.tar.gz" "$O")"
	# image-scale 1 at 1x is the first tree of the size axis.
	if [ "$f" = "$first_factor" ] && [ "$first_iscale" = 1 ]; then
		mv "$W/count$f/maps" "$W/maps1"
		mv "$D" "$W/size1"
	fi
	rm -rf "$W/count$f"
done

echo "== cost against the image size (--image-scale, ${first_factor}x the counts)"
for s in $iscales; do
	D=$W/size$s
	if [ ! -d "$D" ]; then
		"$GEN" -o "$D" --scale "$(awk -v b="$base" -v f="$first_factor" 'BEGIN { print b * f }')" \
			--image-scale "$s" --seed 1 >/dev/null 2>&1
		maps "$D" "$W/maps$s"
	fi
	describe "$D"
	O=$W/out
	if [ "$s" = 1 ] && [ -f "$W/first.split" ]; then # the count axis' 1x tree
		again size "$s" split "$J_SPLIT" "python split_equiv.py scan"
		again size "$s" all "$J_ALL" -
		again size "$s" resize "$J_RESIZE" "$A_RESIZE"
		again size "$s" augment "$J_AUG" -
		again size "$s" eval "$J_EVAL" -
		rm -rf "$D" "$W/maps$s"
		continue
	fi
	measure size "$s" split "$J_SPLIT" "python split_equiv.py scan" \
		"$(best "$O" "$S/mirad-split" "$D")" "$(best "$O" "$PY" "$here/split_equiv.py" scan "$D")"
	measure size "$s" all "$J_ALL" - "$(best "$O" "$S/mirad-stats" --all "$D")" -
	measure size "$s" resize "$J_RESIZE" "$A_RESIZE" \
		"$(best "$O" "$S/mirad-convert" -q --to mvtec --resize 64 -o "$O" "$D")" \
		"$(best "$O" "$PY" "$here/bench_convert_resize.py" "$D" "$O" 64)"
	measure size "$s" augment "$J_AUG" - "$(best "$O" $AUG -o "$O" "$D")" -
	measure size "$s" eval "$J_EVAL" - "$(best "$O" "$S/mirad-eval" -q --gt "$D" --maps "$W/maps$s")" -
	rm -rf "$D" "$W/maps$s"
done
echo "machine: load $(cut -d' ' -f1-3 /proc/loadavg) (shared: timings are noisy)"
