#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every benchmark in tests/bench/ against the build tree ($MIRAD_BUILDDIR,
# default ./_build/plain or ./_build).  Benchmarks print their ratios; they
# never fail on speed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/bench_lib.sh"
bench_find_builddir "$top"
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for b in "$here"/bench_*.sh; do
	echo
	echo "=== $(basename "$b")"
	sh "$b" || echo "($(basename "$b") failed)"
done
