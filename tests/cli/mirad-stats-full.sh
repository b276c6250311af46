#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-stats: imaging heterogeneity, defect geometry, flags, grouping,
# partial/merge, plots and mosaic (issue 7).
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

"$GEN" -o "$T/s" --scale 0.05 >/dev/null 2>&1
run "$BIN/mirad-stats" --imaging "$T/s"
expect_status "--imaging exits 0" 0
done_testing
