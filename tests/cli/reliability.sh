#!/bin/sh
# SPDX-License-Identifier: MIT
# Reliability of the long-running tools: a run killed with SIGKILL and run
# again gives the uninterrupted result and leaves no temporary files; a
# second run on a locked output is refused; a file-size limit (a full disk)
# is a clean error that leaves the previous output intact.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
A=$BIN/mirad-augment

"$GEN" -o "$T/ds" --scale 0.02 --seed 9 --categories chain_buckle,number_block --image-scale 4

# The reference: one uninterrupted run.
"$A" -q --profile node3 --severity all -o "$T/ref" "$T/ds" >"$T/ref.jsonl"

# SIGKILL at several points, then run again.
for delay in 0.2 0.6 1.2; do
	rm -rf "$T/aug"
	"$A" -q --profile node3 --severity all -o "$T/aug" "$T/ds" >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	check "killed after ${delay}s: no half-written output under the final name" \
		sh -c "test ! -e '$T/aug' || diff -r -q '$T/ref' '$T/aug' >/dev/null"
	run "$A" -q --profile node3 --severity all -o "$T/aug" --force "$T/ds"
	expect_status "rerun after SIGKILL at ${delay}s exits 0" 0
	if diff -r "$T/ref" "$T/aug" >"$T/diff" 2>&1; then
		ok "rerun after SIGKILL at ${delay}s equals the uninterrupted run"
	else
		not_ok "rerun after SIGKILL at ${delay}s differs"; diag "$T/diff"
	fi
	expect_eq "no temporary files remain (SIGKILL at ${delay}s)" \
		"$(ls -A "$T" | grep -c '^\.aug\.')" 0
done

# A second run while the output is locked is refused and changes nothing.
( exec 9>"$T/.aug.lock"; flock 9; touch "$T/locked"; exec sleep 60 ) >/dev/null 2>&1 &
holder=$!
while [ ! -e "$T/locked" ]; do sleep 0.1; done
run "$A" -q --profile node1 -o "$T/aug" --force "$T/ds"
expect_status "a run on a locked output is fatal (3)" 3
expect_grep "the lock is named" "cannot lock" "$T/err"
kill $holder 2>/dev/null; wait $holder 2>/dev/null
check "the locked output is unchanged" diff -r -q "$T/ref" "$T/aug"

# A file-size limit: a clear error, the previous output intact.
rc=0
(ulimit -f 20; exec "$A" -q --profile node3 --severity all -o "$T/aug" --force "$T/ds") >/dev/null 2>"$T/err" || rc=$?
expect_status "augment over a file-size limit is fatal (3)" 3
expect_grep "the write error is reported" "write error|File too large" "$T/err"
check "the previous output is intact after the failed run" diff -r -q "$T/ref" "$T/aug"
expect_eq "no temporary files remain after the failed run" "$(ls -A "$T" | grep -c '^\.aug\.tmp')" 0

# mirad-convert, killed and run again.
"$BIN/mirad-convert" -q --to mvtec -o "$T/cref" "$T/ds" >/dev/null
for delay in 0.1 0.4; do
	rm -rf "$T/conv"
	"$BIN/mirad-convert" -q --to mvtec -o "$T/conv" "$T/ds" >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	run "$BIN/mirad-convert" -q --to mvtec -o "$T/conv" --force "$T/ds"
	expect_status "convert rerun after SIGKILL at ${delay}s exits 0" 0
	if diff -r "$T/cref" "$T/conv" >"$T/diff" 2>&1; then
		ok "convert rerun after SIGKILL at ${delay}s equals the uninterrupted run"
	else
		not_ok "convert rerun after SIGKILL at ${delay}s differs"; diag "$T/diff"
	fi
	expect_eq "no convert temporary files remain (${delay}s)" \
		"$(ls -A "$T" | grep -c '^\.conv\.')" 0
done

"$BIN/mirad-split" "$T/ds" -o "$T/m.jsonl"
cp "$T/m.jsonl" "$T/m.before"
rc=0
(ulimit -f 1; exec "$BIN/mirad-split" "$T/ds" -o "$T/m.jsonl") >/dev/null 2>"$T/err" || rc=$?
expect_status "split -o over a file-size limit is fatal (3)" 3
expect_grep "split names the write error" "File too large" "$T/err"
expect_same "the previous manifest is intact" "$T/m.jsonl" "$T/m.before"

done_testing
