#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it (the README's test command):
#   1. gcc, warnings as errors: both tiers (make check-full = make check
#      and make check-long in one run), then make distcheck (which builds
#      the tarball and runs the short tier in it);
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer: both tiers;
#   3. the unit tests of the gcc build under valgrind.
# Build trees go to _build/{plain,san}.  Set MIRAD_QUICK=1 to run
# step 1's short tier (make check) only.
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

step "gcc -Werror: make check + make check-long"
build _build/plain --enable-unit-tests --enable-werror
tiers _build/plain check-full

step "make distcheck"
(cd _build/plain && make -j"$jobs" distcheck >distcheck.log 2>&1) || { tail -60 _build/plain/distcheck.log; exit 1; }
echo "distcheck: ok"

step "clang + ASan + UBSan: make check + make check-long"
build _build/san CC=clang --enable-unit-tests --enable-asan --enable-ubsan
tiers _build/san check-full

step "valgrind: unit tests"
(cd _build/plain && make -j"$jobs" check-valgrind-unit)

step "all test runs passed"
# One closing line over the two full runs (plain and sanitizers).
awk '/^# PASS:/ { p += $3 } /^# (FAIL|ERROR|XPASS):/ { f += $3 }
	END { printf "tests: %d passed, %d failed\n", p, f }' \
	_build/plain/test-suite.log _build/san/test-suite.log
