#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every benchmark in tests/bench/ against the build tree ($MIRAD_BUILDDIR,
# default ./_build/plain or ./_build).  Benchmarks print their ratios; they
# never fail on speed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if [ -z "${MIRAD_BUILDDIR:-}" ]; then
	for d in "$top/_build/plain" "$top/_build" "$PWD"; do
		[ -x "$d/src/mirad-stats" ] && MIRAD_BUILDDIR=$d && break
	done
fi
export MIRAD_BUILDDIR
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for b in "$here"/bench_*.sh; do
	echo
	echo "=== $(basename "$b")"
	sh "$b" || echo "($(basename "$b") failed)"
done
