#!/bin/sh
# SPDX-License-Identifier: MIT
# One command from a fresh clone: install what is missing (Debian), build,
# generate a MIRAD-shaped sample dataset (and its .tar.gz), describe it as a
# manifest with mirad-split and print its overview with mirad-stats.
#
#   ./examples/quickstart.sh            build in ./_build, sample in ./_build/sample
#   ./examples/quickstart.sh --no-build use an existing build ($MIRAD_BUILDDIR or ./_build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MIRAD_BUILDDIR:-$top/_build}
scale=${MIRAD_SAMPLE_SCALE:-0.1}

if [ "${1:-}" != "--no-build" ]; then
	"$top/build-aux/install-deps"
	cd "$top"
	[ -x configure ] || autoreconf -fi
	mkdir -p "$build"
	cd "$build"
	[ -f Makefile ] || "$top/configure" --enable-unit-tests
	make -j"$(nproc 2>/dev/null || echo 2)"
fi

work=${MIRAD_SAMPLE_DIR:-$build/sample}
mkdir -p "$work"
echo "== generating a MIRAD-shaped sample (scale $scale) in $work/MIRAD" >&2
"$build/tests/mirad-gen-sample" --force --scale "$scale" --seed 1 \
	-o "$work/MIRAD" --archive "$work/MIRAD.tar.gz"
echo "== describing it: $work/mirad.jsonl" >&2
"$build/src/mirad-split" "$work/MIRAD" -o "$work/mirad.jsonl"
echo "== its statistical overview (from the manifest, through a pipe)" >&2
"$build/src/mirad-split" "$work/MIRAD" | "$build/src/mirad-stats" -
