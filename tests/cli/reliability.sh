#!/bin/sh
# SPDX-License-Identifier: MIT
# Reliability of the long-running tools: a run killed with SIGKILL and run
# again gives the uninterrupted result and leaves no temporary files; a
# second run on a locked output is refused; a file-size limit (a full disk)
# is a clean error that leaves the previous output intact.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
A=$BIN/mirad-augment

# Images of ~200 px: augmented ones reach ~20 KB, over the file-size
# limit below (8 blocks, 4 or 8 KB by the shell's block size).
"$GEN" -o "$T/ds" --scale 0.02 --seed 9 --categories chain_buckle,number_block --image-scale 2

# The reference: one uninterrupted run.
"$A" -q --profile node3 --severity all -o "$T/ref" "$T/ds" >"$T/ref.jsonl"

# SIGKILL at several points, then run again.  MIRAD_TEST_STOP_AT makes the
# run stop itself once N images are done (mirad(7)); it is killed there.
# The reruns repeat the reference run, which was leak-checked.
leak_checks off
for at in 1 10 40; do
	rm -rf "$T/aug"
	MIRAD_TEST_STOP_AT=augmenting:$at "$A" -q --profile node3 --severity all \
		-o "$T/aug" "$T/ds" >/dev/null 2>&1 &
	pid=$!
	check "augment stopped after $at images" wait_stopped $pid
	check "stopped after $at images: the run is at work in its temporary folder" \
		sh -c "ls -A '$T' | grep -q '^\.aug\.tmp'"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	check "killed after $at images: no output under the final name" test ! -e "$T/aug"
	run "$A" -q --profile node3 --severity all -o "$T/aug" --force "$T/ds"
	expect_status "rerun after SIGKILL after $at images exits 0" 0
	if diff -r "$T/ref" "$T/aug" >"$T/diff" 2>&1; then
		ok "rerun after SIGKILL after $at images equals the uninterrupted run"
	else
		not_ok "rerun after SIGKILL after $at images differs"; diag "$T/diff"
	fi
	expect_eq "no temporary files remain (SIGKILL after $at images)" \
		"$(ls -A "$T" | grep -c '^\.aug\.')" 0
done
leak_checks on

# A second run while the output is locked is refused and changes nothing.
# The test holds the lock itself (flock on its own descriptor 9).
exec 9>"$T/.aug.lock"
flock 9
run "$A" -q --profile node1 -o "$T/aug" --force "$T/ds"
expect_status "a run on a locked output is fatal (3)" 3
expect_grep "the lock is named" "cannot lock" "$T/err"
exec 9>&-
check "the locked output is unchanged" diff -r -q "$T/ref" "$T/aug"

# A file-size limit: a clear error, the previous output intact.
rc=0
(ulimit -f 8; exec "$A" -q --profile node3 --severity all -o "$T/aug" --force "$T/ds") >/dev/null 2>"$T/err" || rc=$?
expect_status "augment over a file-size limit is fatal (3)" 3
expect_grep "the write error is reported" "write error|File too large" "$T/err"
check "the previous output is intact after the failed run" diff -r -q "$T/ref" "$T/aug"
expect_eq "no temporary files remain after the failed run" "$(ls -A "$T" | grep -c '^\.aug\.tmp')" 0

# mirad-convert (18 records), stopped after N records, killed and run again.
"$BIN/mirad-convert" -q --to mvtec -o "$T/cref" "$T/ds" >/dev/null
leak_checks off
for at in 1 9; do
	rm -rf "$T/conv"
	MIRAD_TEST_STOP_AT=converting:$at "$BIN/mirad-convert" -q --to mvtec \
		-o "$T/conv" "$T/ds" >/dev/null 2>&1 &
	pid=$!
	check "convert stopped after $at records" wait_stopped $pid
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	check "convert killed after $at records: no output under the final name" \
		test ! -e "$T/conv"
	run "$BIN/mirad-convert" -q --to mvtec -o "$T/conv" --force "$T/ds"
	expect_status "convert rerun after SIGKILL after $at records exits 0" 0
	if diff -r "$T/cref" "$T/conv" >"$T/diff" 2>&1; then
		ok "convert rerun after SIGKILL after $at records equals the uninterrupted run"
	else
		not_ok "convert rerun after SIGKILL after $at records differs"; diag "$T/diff"
	fi
	expect_eq "no convert temporary files remain (after $at records)" \
		"$(ls -A "$T" | grep -c '^\.conv\.')" 0
done
leak_checks on

"$BIN/mirad-split" "$T/ds" -o "$T/m.jsonl"
cp "$T/m.jsonl" "$T/m.before"
rc=0
(ulimit -f 1; exec "$BIN/mirad-split" "$T/ds" -o "$T/m.jsonl") >/dev/null 2>"$T/err" || rc=$?
expect_status "split -o over a file-size limit is fatal (3)" 3
expect_grep "split names the write error" "File too large" "$T/err"
expect_same "the previous manifest is intact" "$T/m.jsonl" "$T/m.before"

done_testing
