#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it (the README's test command).  Every
# test runs once, under the sanitizers; the other steps prove what that
# run cannot:
#   1. gcc, warnings as errors: build, and run the unit tests under valgrind
#      (beside step 2, and beside the build of step 3);
#   2. make distcheck-smoke: the tarball builds (-Werror), installs,
#      uninstalls and holds every tracked file, and its check runs the unit
#      tests and the smoke scripts (not the suite a second time);
#   3. clang with AddressSanitizer + UndefinedBehaviorSanitizer: both tiers
#      (make check-full = make check and make check-long in one run).
# Build trees go to _build/{plain,san}.  Set MIRAD_QUICK=1 to run only the
# gcc build's short tier (make check), the developers' tier.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
cd "$top"
[ -x configure ] || autoreconf -fi

step() { printf '\n=== %s\n' "$*"; }
build() { # build DIR CONFIGURE-ARGS...
	d=$1; shift
	mkdir -p "$d"
	(cd "$d" && "$top/configure" -q "$@" && make -j"$jobs" >/dev/null)
}
# tiers DIR TARGET: run the tests, print the failures' logs on failure.
tiers() {
	(cd "$1" && make -j"$jobs" "$2") ||
		{ cat "$1/test-suite.log" 2>/dev/null | tail -80; exit 1; }
}

if [ "${MIRAD_QUICK:-0}" = 1 ]; then
	step "gcc -Werror: make check"
	build _build/plain --enable-unit-tests --enable-werror
	tiers _build/plain check
	exit 0
fi

step "gcc -Werror: build"
build _build/plain --enable-unit-tests --enable-werror
# The unit tests built before the two steps below share the tree.
(cd _build/plain && make -j"$jobs" check TESTS= check_DATA= >/dev/null)

# Three jobs side by side, as their serial parts (configure runs, dist,
# valgrind's one test at a time) leave a core idle: the unit tests under
# valgrind, distcheck-smoke, and the sanitizer build with its test
# programs and shared samples.
step "the unit tests under valgrind; make distcheck-smoke; the clang + ASan + UBSan build"
(cd _build/plain && make check-valgrind-unit >valgrind-unit.log 2>&1) &
valgrind_pid=$!
mkdir -p _build/san
(build _build/san CC=clang --enable-unit-tests --enable-asan --enable-ubsan &&
	cd _build/san && make -j"$jobs" check TESTS= >/dev/null) >_build/san-build.log 2>&1 &
san_pid=$!
distcheck_rc=0
(cd _build/plain && make -j"$jobs" distcheck-smoke >distcheck.log 2>&1) || distcheck_rc=$?
valgrind_rc=0
wait "$valgrind_pid" || valgrind_rc=$?
san_rc=0
wait "$san_pid" || san_rc=$?
cat _build/plain/valgrind-unit.log
[ "$valgrind_rc" -eq 0 ] || { echo "valgrind: the unit tests failed"; exit 1; }
[ "$distcheck_rc" -eq 0 ] || { tail -60 _build/plain/distcheck.log; exit 1; }
echo "distcheck: ok"
[ "$san_rc" -eq 0 ] || { tail -60 _build/san-build.log; exit 1; }

step "clang + ASan + UBSan: make check + make check-long"
tiers _build/san check-full

step "all test runs passed"
awk '/^# PASS:/ { p += $3 } /^# (FAIL|ERROR|XPASS):/ { f += $3 }
	END { printf "tests: %d passed, %d failed\n", p, f }' _build/san/test-suite.log
