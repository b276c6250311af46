# SPDX-License-Identifier: MIT
# Shared TAP helpers for the black-box CLI tests.  Source it first:
#   . "$MIRAD_SRCDIR/tests/cli/tap.sh"
# The test then calls run/expect_* and ends with done_testing.
# Everything is written under $T, a private folder removed on exit.
set -u
: "${MIRAD_BUILDDIR:?run through make check}" "${MIRAD_SRCDIR:?run through make check}"
export LC_ALL=C
BIN=$MIRAD_BUILDDIR/src
DATA=$MIRAD_SRCDIR/tests/data
PY=${PYTHON3:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/mirad-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

# The sample generator is a test helper, not a tool under test: under the
# sanitizers it runs without the leak check, ASan's quarantine and its
# malloc fill (a memory error still stops it), which halves its time.  The
# same options generate the shared samples (tests/fixtures, Makefile.am).
GEN=$T/.mirad-gen-sample
printf '#!/bin/sh\nASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}%s" exec "%s" "$@"\n' \
	detect_leaks=0:quarantine_size_mb=0:max_malloc_fill_size=0 \
	"$MIRAD_BUILDDIR/tests/mirad-gen-sample" >"$GEN"
chmod +x "$GEN"

# leak_checks off|on: LeakSanitizer for the tools run from here on (on by
# default, Makefile.am).  Only the long tier turns it off, around runs that
# repeat what the tools' own scripts already leak-check (kill and rerun,
# scale-out, the benchmarks); see the policy in Makefile.am.
leak_checks() {
	case $1 in
	off) export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" ;;
	on) export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1" ;;
	esac
}

# Under `make check-valgrind` the tools run through valgrind (jq's scheme).
RUN=""
if [ -n "${VALGRIND:-}" ]; then
	RUN="$VALGRIND -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=${VALGRIND_SUPP:-/dev/null}"
fi

# need_python [MODULE...]: skip the whole test, saying why, unless python3
# and these modules were found (configure's list in $PYTHON3_MODULES; run
# by hand without it, the modules are tried).
need_python() {
	case $PY in
	"" | no) echo "1..0 # SKIP python3 was not found by configure"; exit 0 ;;
	esac
	_missing=""
	for _m in "$@"; do
		if [ -n "${PYTHON3_MODULES+set}" ]; then
			case " $PYTHON3_MODULES " in *" $_m "*) continue ;; esac
		elif "$PY" -c "import $_m" >/dev/null 2>&1; then
			continue
		fi
		_missing="$_missing $_m"
	done
	if [ -n "$_missing" ]; then
		echo "1..0 # SKIP needs the Python modules:$_missing"
		exit 0
	fi
}

tap_n=0
tap_fail=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_fail=$((tap_fail + 1)); echo "not ok $tap_n - $*"; }
diag() { sed 's/^/# /' "$@" | head -20; }

# check DESC CMD...: ok when CMD succeeds.
check() {
	_d=$1; shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

# run CMD...: stdout to $T/out, stderr to $T/err, exit status in $rc.
run() {
	rc=0
	$RUN "$@" >"$T/out" 2>"$T/err" || rc=$?
}
# run_in FILE CMD...: like run, with FILE on stdin.
run_in() {
	_in=$1; shift
	rc=0
	$RUN "$@" <"$_in" >"$T/out" 2>"$T/err" || rc=$?
}

expect_status() {
	if [ "$rc" -eq "$2" ]; then ok "$1"; else
		not_ok "$1 (status $rc, expected $2)"; diag "$T/err"; fi
}
# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1 (got '$2', expected '$3')"; fi
}
# expect_grep DESC REGEX FILE
expect_grep() {
	if grep -Eq -- "$2" "$3"; then ok "$1"; else
		not_ok "$1 (no /$2/ in $(basename "$3"))"; diag "$3"; fi
}
expect_no_grep() {
	if grep -Eq -- "$2" "$3"; then not_ok "$1 (/$2/ found)"; diag "$3"; else
		ok "$1"; fi
}
expect_empty() {
	if [ ! -s "$2" ]; then ok "$1"; else not_ok "$1 (not empty)"; diag "$2"; fi
}
# expect_same DESC FILE1 FILE2
expect_same() {
	if cmp -s "$2" "$3"; then ok "$1"; else
		not_ok "$1 (files differ)"; diff "$2" "$3" | head -10 | sed 's/^/# /'; fi
}

# wait_for CMD...: run CMD every 10 ms until it succeeds; fail after 60 s.
wait_for() {
	_n=0
	while ! "$@"; do
		_n=$((_n + 1))
		[ "$_n" -ge 6000 ] && return 1
		sleep 0.01
	done
}
# wait_stopped PID: wait until process PID has stopped itself at the point
# named by MIRAD_TEST_STOP_AT (mirad(7)); fails at once if it ends instead.
wait_stopped() {
	_n=0
	while :; do
		# The state letter follows the command name in /proc/PID/stat.
		case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in
		T*) return 0 ;;
		"" | Z*) return 1 ;;
		esac
		_n=$((_n + 1))
		[ "$_n" -ge 6000 ] && return 1
		sleep 0.01
	done
}
# fixture NAME DEST: a private copy of the shared sample NAME (generated
# once per build tree by make check; see Makefile.am) at DEST.
fixture() {
	if [ ! -e "$MIRAD_BUILDDIR/tests/fixtures.stamp" ]; then
		echo "Bail out! the shared samples are missing (run through make check)"
		exit 1
	fi
	cp -R "$MIRAD_BUILDDIR/tests/fixtures/$1" "$2"
}
# size_of FILE: its size in bytes, 0 if it does not exist.
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

# The checks every tool must pass: --help, --version, a usage error, and
# that every --long-option in --help is in the man page.
common_cli_checks() {
	_tool=$1
	run "$BIN/$_tool" --help
	expect_status "$_tool --help exits 0" 0
	expect_grep "$_tool --help starts with Usage" "^Usage: $_tool " "$T/out"
	expect_empty "$_tool --help writes nothing on stderr" "$T/err"
	run "$BIN/$_tool" --version
	expect_status "$_tool --version exits 0" 0
	expect_grep "$_tool --version names the package" "^$_tool \\(mirad-tools\\) [0-9]" "$T/out"
	run "$BIN/$_tool" --no-such-option
	expect_status "$_tool unknown option exits 2" 2
	expect_grep "$_tool usage error names the option" "^$_tool: unknown option '--no-such-option'" "$T/err"
	expect_grep "$_tool usage error gives the hint" "Try '$_tool --help'" "$T/err"
	"$BIN/$_tool" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$T/opts"
	_missing=""
	while read -r _o; do
		_n=${_o#--}
		grep -qE -- "Fl -${_n}([^a-z0-9-]|\$)|\\\\-\\\\-${_n}([^a-z0-9-]|\$)" "$MIRAD_SRCDIR/man/$_tool.1" || _missing="$_missing $_o"
	done <"$T/opts"
	expect_eq "$_tool: every --help option is in $_tool.1" "$_missing" ""
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_fail" -eq 0 ]
}
