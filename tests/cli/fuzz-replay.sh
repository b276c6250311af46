#!/bin/sh
# SPDX-License-Identifier: MIT
# Replay every fuzz corpus file (seeds and regressions) through the
# harnesses, built as plain programs: none may crash or leak.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

for h in manifest csv profile http archive_name drive eval_partial; do
	n=$(ls "$MIRAD_SRCDIR/tests/fuzz/corpus/$h" | wc -l)
	run "$MIRAD_BUILDDIR/tests/fuzz/replay_$h" "$MIRAD_SRCDIR/tests/fuzz/corpus/$h"
	expect_status "fuzz corpus of $h replays cleanly" 0
	expect_eq "all $h corpus files replayed" "$(cat "$T/out")" "$n inputs replayed"
done

done_testing
