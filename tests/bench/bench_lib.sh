# SPDX-License-Identifier: MIT
# Sourced by every tests/bench/*.sh: where the build tree is, and the
# machine-readable result rows
# that tests/bench/report.sh collects.  The scripts keep printing their own
# human output; when $MIRAD_BENCH_RESULTS names a file, each measurement is
# also appended to it as one line of tab-separated fields:
#
#   benchmark case data mirad_seconds alternative alt_seconds ratio note [scale images pixels]
#
#   benchmark      the script's name without bench_ and .sh (foundation, ...)
#                  or scaling-count / scaling-size for bench_scaling.sh
#   case           what mirad-tools ran (command and options)
#   data           what it ran on, for humans
#   mirad_seconds  wall seconds (best of the script's runs, or one run)
#   alternative    the contender, "-" when there is none
#   alt_seconds    its wall seconds, "-" when there is none
#   ratio          alt_seconds / mirad_seconds (above 1: mirad-tools is faster)
#   note           free text (CPU time, memory, targets), "-" when empty
#   scale images pixels   bench_scaling.sh only: the count factor (or the
#                  --image-scale), the number of images and the mean pixels
#                  per image
#
# Tabs and newlines inside a field become spaces.

# bench_row BENCH CASE DATA MIRAD_S ALT ALT_S [NOTE [SCALE IMAGES PIXELS]]
bench_row() {
	[ -n "${MIRAD_BENCH_RESULTS:-}" ] || return 0
	awk 'BEGIN {
		n = ARGC - 1 < 7 ? 7 : ARGC - 1
		for (i = 1; i <= n; i++) {
			f[i] = i < ARGC ? ARGV[i] : ""
			gsub(/[\t\n]/, " ", f[i])
			if (f[i] == "") f[i] = "-"
		}
		if (f[6] ~ /^[0-9.]+$/ && f[4] ~ /^[0-9.]+$/ && f[4] + 0 > 0)
			r = sprintf("%.3f", f[6] / f[4])
		else
			r = "-"
		line = f[1] "\t" f[2] "\t" f[3] "\t" f[4] "\t" f[5] "\t" f[6] "\t" r "\t" f[7]
		for (i = 8; i <= n; i++) line = line "\t" f[i]
		print line
		exit
	}' "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}" ${8+"$8"} ${9+"$9"} ${10+"${10}"} >>"$MIRAD_BENCH_RESULTS"
}

# bench_secs M:SS.ss|H:MM:SS|SECONDS -> seconds (GNU time's wall clock)
bench_secs() {
	printf '%s\n' "$1" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.3f\n", s }'
}

# bench_find_builddir TOP: unless MIRAD_BUILDDIR is set, the first of
# TOP/_build/plain, TOP/_build and the current folder that holds built tools;
# exports it as an absolute path.  Exits 2 when there is none.
bench_find_builddir() {
	if [ -z "${MIRAD_BUILDDIR:-}" ]; then
		for _d in "$1/_build/plain" "$1/_build" "$PWD"; do
			[ -x "$_d/src/mirad-stats" ] && MIRAD_BUILDDIR=$_d && break
		done
	fi
	if [ -z "${MIRAD_BUILDDIR:-}" ]; then
		echo "$(basename "$0"): no build tree found: set MIRAD_BUILDDIR" >&2
		exit 2
	fi
	MIRAD_BUILDDIR=$(cd "$MIRAD_BUILDDIR" && pwd)
	export MIRAD_BUILDDIR
}
