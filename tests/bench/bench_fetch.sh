#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-fetch --archive (hash, policy-checked unpack, layout validation,
# rename) against plain `bsdtar -xf` on the full-scale sample archive
# (generator --scale 1: 4,789 images + 1,737 masks), tar.gz and zip.
# Prints best-of-N wall times and the ratios (target: within 1.3x of bsdtar,
# validation included; --check-sizes adds libvips header reads of every
# image and mask).  Timings are noisy on a shared machine; TMPDIR=/dev/shm
# takes the disk out of the comparison.  BENCH_RUNS=N (default 5);
# BENCH_SCALE (default 1) sizes the sample.
set -eu
B=${MIRAD_BUILDDIR:?set MIRAD_BUILDDIR to a build tree}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
runs=${BENCH_RUNS:-5}
scale=${BENCH_SCALE:-1}
. "$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
command -v bsdtar >/dev/null || { echo "bsdtar not found (libarchive-tools)"; exit 1; }

mkdir -p "$W/src" "$W/src2"
"$B/tests/mirad-gen-sample" -o "$W/src/MIRAD" --scale "$scale" --seed 1 --archive "$W/MIRAD.tar.gz" >/dev/null
"$B/tests/mirad-gen-sample" -o "$W/src2/MIRAD" --scale "$scale" --seed 1 --archive "$W/MIRAD.zip" >/dev/null
rm -rf "$W/src" "$W/src2"
entries=$(bsdtar -tf "$W/MIRAD.tar.gz" | wc -l)
echo "archives: $entries entries; tar.gz $(stat -c %s "$W/MIRAD.tar.gz") bytes, zip $(stat -c %s "$W/MIRAD.zip") bytes"
cat "$W/MIRAD.tar.gz" "$W/MIRAD.zip" >/dev/null # warm the page cache

best() { # best-of-N wall time of a command, in seconds; $1 = folder to clear
	out=$1
	shift
	b=""
	i=0
	while [ $i -lt "$runs" ]; do
		rm -rf "$out"
		mkdir -p "$out"
		rmdir "$out"
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
		i=$((i + 1))
	done
	rm -rf "$out"
	echo "$b"
}
bsd() { mkdir -p "$W/bsd" && bsdtar -xf "$1" -C "$W/bsd"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

for ext in tar.gz zip; do
	a=$W/MIRAD.$ext
	t_bsd=$(best "$W/bsd" bsd "$a")
	t_fast=$(best "$W/out" "$B/src/mirad-fetch" -q --archive "$a" -o "$W/out")
	t_full=$(best "$W/out" "$B/src/mirad-fetch" -q --check-sizes --archive "$a" -o "$W/out")
	printf '%-52s %8.3f s\n' "bsdtar -xf MIRAD.$ext" "$t_bsd"
	printf '%-52s %8.3f s  (%sx bsdtar)\n' "mirad-fetch --archive MIRAD.$ext" "$t_fast" "$(ratio "$t_fast" "$t_bsd")"
	printf '%-52s %8.3f s  (%sx bsdtar)\n' "mirad-fetch --check-sizes --archive MIRAD.$ext" "$t_full" "$(ratio "$t_full" "$t_bsd")"
	data="MIRAD.$ext, --scale $scale ($entries entries)"
	bench_row fetch "mirad-fetch --archive MIRAD.$ext" "$data" "$t_fast" "bsdtar -xf" "$t_bsd" "best of $runs; target: within 1.3x of bsdtar (ratio >= 0.77)"
	bench_row fetch "mirad-fetch --check-sizes --archive MIRAD.$ext" "$data" "$t_full" "bsdtar -xf" "$t_bsd" "best of $runs; also reads every image and mask header"
done
