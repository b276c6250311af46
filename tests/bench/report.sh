#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the benchmarks of tests/bench/ and write the performance report:
# tests/bench/REPORT.md (the machine, every benchmark with its ratio, and how
# the cost grows with the number of images and their size) and REPORT.tsv
# beside it (the result rows, see bench_lib.sh).  `make bench-report` runs it
# on the build tree.  Never fails on speed; exits 1 when a benchmark failed
# (the report is written anyway and says which).
#
#   MIRAD_BUILDDIR      the build tree (default ./_build/plain, ./_build or .)
#   MIRAD_BENCH_ONLY    the benchmarks to run, by name (default: all of
#                       "foundation split stats fetch convert augment eval
#                       scaling"); the others are left out of the report
#   MIRAD_BENCH_QUICK=1 tiny sizes and one run each (under a minute, for the
#                       smoke test tests/cli/bench-report.sh): checks the
#                       machinery, the numbers mean nothing
#   MIRAD_BENCH_REPORT  the report to write (default tests/bench/REPORT.md
#                       in the source tree; the .tsv goes beside it)
#   BENCH_*             a benchmark's own size variables (BENCH_RUNS,
#                       BENCH_SCALE, ...) given in the environment win over
#                       the sizes below, for every benchmark that reads them
#
# The full run took 17.5 minutes on the 2-core development machine at load
# average 1.7 to 2.2 (21 at 1 to 5, 29 at 6 to 7), about 19 minutes of CPU.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/bench_lib.sh"
bench_find_builddir "$top"
PY=${PYTHON3:-/usr/bin/python3}
export PYTHON3=$PY
quick=${MIRAD_BENCH_QUICK:-0}
benches=${MIRAD_BENCH_ONLY:-foundation split stats fetch convert augment eval scaling}
out=${MIRAD_BENCH_REPORT:-$here/REPORT.md}
case $out in /*) ;; *) out=$PWD/$out ;; esac
tsv=${out%.md}.tsv
for b in $benches; do
	[ -f "$here/bench_$b.sh" ] || { echo "report.sh: no benchmark named '$b' (tests/bench/bench_$b.sh)" >&2; exit 2; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX")
trap 'rm -rf "$W"' EXIT
export MIRAD_BENCH_RESULTS=$W/results.tsv
: >"$MIRAD_BENCH_RESULTS"

# settings NAME: the benchmark's size variables, one VAR=VALUE a line, and
# its arguments on a line "args ...".  The full sizes keep the whole report
# near 20 minutes on 2 cores; each script's header says what they mean.
settings() {
	if [ "$quick" = 1 ]; then
		case $1 in
		foundation | fetch) printf '%s\n' BENCH_SCALE=0.005 BENCH_RUNS=1 ;;
		split) printf '%s\n' BENCH_SCALE=0.005 BENCH_RECORDS=3000 BENCH_RUNS=1 ;;
		stats) printf '%s\n' BENCH_SCALE=0.005 BENCH_IMAGE_SCALE=1 BENCH_RUNS=1 ;;
		convert) printf '%s\n' BENCH_SCALE=0.005 BENCH_IMAGE_SCALE=1 BENCH_VISA_IMAGE_SCALE=1 BENCH_RUNS=1 ;;
		augment) printf '%s\n' BENCH_SCALE=0.002 BENCH_IMAGE_SCALE=1 BENCH_SMALL_SCALE=0.02 ;;
		eval) printf '%s\n' "args 4 64" ;;
		scaling) printf '%s\n' BENCH_SCALE=0.001 BENCH_RUNS=1 "BENCH_IMAGE_SCALES=1 2" ;;
		*) printf '%s\n' BENCH_RUNS=1 ;;
		esac
	else
		case $1 in
		foundation | fetch) printf '%s\n' BENCH_SCALE=1 BENCH_RUNS=5 ;;
		split) printf '%s\n' BENCH_SCALE=1 BENCH_RECORDS=100000 BENCH_RUNS=5 ;;
		stats) printf '%s\n' BENCH_SCALE=0.02 BENCH_IMAGE_SCALE=10 BENCH_RUNS=5 ;;
		convert) printf '%s\n' BENCH_SCALE=1 BENCH_IMAGE_SCALE=8 BENCH_VISA_IMAGE_SCALE=4 BENCH_RUNS=3 ;;
		augment) printf '%s\n' BENCH_SCALE=0.01 BENCH_IMAGE_SCALE=10 BENCH_SMALL_SCALE=0.4 ;;
		eval) printf '%s\n' "args 100 512" ;;
		scaling) printf '%s\n' BENCH_SCALE=0.1 BENCH_RUNS=3 ;;
		esac
	fi
}

# resolve NAME: the settings bench_NAME.sh runs with, in $W/set.NAME (a
# variable already in the environment wins).
resolve() {
	: >"$W/set.$1"
	settings "$1" | while IFS= read -r kv; do
		case $kv in
		"args "*) echo "$kv" ;;
		*=*)
			k=${kv%%=*}
			if eval "[ -n \"\${$k+x}\" ]"; then eval "printf '%s=%s\n' \"\$k\" \"\$$k\""; else echo "$kv"; fi
			;;
		esac
	done >"$W/set.$1"
}
# run_bench NAME: run bench_NAME.sh with $W/set.NAME, output to $W/log.NAME.
run_bench() (
	args=""
	while IFS= read -r kv; do
		case $kv in
		"args "*) args=${kv#args } ;;
		*) export "$kv" ;;
		esac
	done <"$W/set.$1"
	# shellcheck disable=SC2086
	exec sh "$here/bench_$1.sh" $args >"$W/log.$1" 2>&1
)

now() { date +%s.%N; }
line1() { "$@" 2>/dev/null | head -n 1 || true; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$W/meta.tsv"; }
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*average: //; s/,//g'; }

: >"$W/meta.tsv"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta mode "$([ "$quick" = 1 ] && echo quick || echo full)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
meta cores "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
meta memory "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
meta os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(uname -s) $(uname -r) $(uname -m)"
meta virtualisation "$(systemd-detect-virt 2>/dev/null || lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*//p')"
meta workdir "${TMPDIR:-/tmp} ($(df -PT "${TMPDIR:-/tmp}" 2>/dev/null | awk 'NR == 2 { print $2 }'))"
meta tools "$(line1 "$MIRAD_BUILDDIR/src/mirad-split" --version)"
meta libraries "$("$MIRAD_BUILDDIR/src/mirad-split" --version 2>/dev/null | sed -n 2p)"
meta commit "$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
meta build "$MIRAD_BUILDDIR: $(sed -n 's/^CC = //p' "$MIRAD_BUILDDIR/Makefile" 2>/dev/null) $(sed -n 's/^CFLAGS = //p; s/^SAN_CFLAGS = \(..*\)/\1/p' "$MIRAD_BUILDDIR/Makefile" 2>/dev/null | tr '\n' ' ')"
meta python "$("$PY" -c '
import sys, importlib
v = ["Python " + sys.version.split()[0]]
for m, n in (("PIL", "Pillow"), ("numpy", "NumPy"), ("scipy", "SciPy"), ("sklearn", "scikit-learn")):
    try:
        v.append(n + " " + importlib.import_module(m).__version__)
    except Exception:
        v.append(n + " missing")
print(", ".join(v))' 2>/dev/null || echo "$PY missing")"
meta contenders "$(line1 hyperfine --version), $(line1 bsdtar --version | cut -d' ' -f1-2), $(line1 cp --version)"
meta load_before "$(load)"

echo "report: running $benches on $MIRAD_BUILDDIR ($(sed -n 's/^mode\t//p' "$W/meta.tsv") sizes)" >&2
t0=$(now)
failed=0
: >"$W/runs.tsv"
for b in $benches; do
	resolve "$b"
	shown=$(paste -sd';' "$W/set.$b" | sed 's/;/; /g')
	echo "report: bench_$b.sh $shown" >&2
	s=$(now)
	rc=0
	run_bench "$b" || rc=$?
	secs=$(awk -v s="$s" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }')
	[ $rc -eq 0 ] || { failed=1; echo "report: bench_$b.sh failed (status $rc); see the report" >&2; }
	printf '%s\t%s\t%s\t%s\n' "$b" "$rc" "$secs" "$shown" >>"$W/runs.tsv"
done
meta load_after "$(load)"
meta total "$(awk -v s="$t0" -v e="$(now)" 'BEGIN { printf "%.0f", e - s }')"

mkdir -p "$(dirname "$out")"
"$PY" "$here/report.py" "$W" >"$out.tmp" && mv "$out.tmp" "$out"
{
	printf 'benchmark\tcase\tdata\tmirad_seconds\talternative\talt_seconds\tratio\tnote\tscale\timages\tpixels\n'
	cat "$MIRAD_BENCH_RESULTS"
} >"$tsv.tmp" && mv "$tsv.tmp" "$tsv"
echo "report: wrote $out and $tsv in $(sed -n 's/^total\t//p' "$W/meta.tsv") s" >&2
exit $failed
