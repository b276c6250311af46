#!/bin/sh
# SPDX-License-Identifier: MIT
# Black-box tests of mirad-split.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

common_cli_checks mirad-split

"$GEN" -o "$T/s" --scale 0.1 >/dev/null 2>&1
run "$BIN/mirad-split" "$T/s"
expect_status "native split exits 0" 0
expect_eq "native split lists every image" "$(wc -l <"$T/out")" 480

done_testing
