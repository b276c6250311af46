#!/bin/sh
# SPDX-License-Identifier: MIT
# Run what examples/ shows, so it cannot rot.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

rc=0
MIRAD_SAMPLE_DIR="$T/qs" MIRAD_SAMPLE_SCALE=0.05 \
	sh "$MIRAD_SRCDIR/examples/quickstart.sh" --no-build >"$T/out" 2>"$T/err" || rc=$?
expect_status "quickstart.sh --no-build exits 0" 0
expect_grep "quickstart prints the overview table" '^\| \*\*Total\*\* \| 121 \| 33 \| 87 \| – \|$' "$T/out"
check "quickstart writes the sample archive" test -s "$T/qs/MIRAD.tar.gz"
check "quickstart writes the manifest" test -s "$T/qs/mirad.jsonl"
expect_eq "the archive holds every file of the tree" \
	"$(bsdtar -tzf "$T/qs/MIRAD.tar.gz" | grep -vc '/$')" \
	"$(find "$T/qs/MIRAD" -type f | wc -l)"

run "$BIN/mirad-stats" --format csv "$MIRAD_SRCDIR/examples/manifest.jsonl"
expect_status "the example manifest reads cleanly" 0
# Its anomalies sit in pooled test/anomaly folders: defect types unknown.
expect_grep "example manifest: chain_buckle row" "^chain_buckle,2,1,1,$" "$T/out"
expect_grep "example manifest: total row" "^total,3,1,2,$" "$T/out"

done_testing
