#!/bin/sh
# SPDX-License-Identifier: MIT
# Scale-out: the robustness suite of examples/ run with GNU parallel in 3
# shards equals the single-machine run byte for byte (trees, manifests in
# their order, statistics); so does the Slurm array script and its merge.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

if ! command -v parallel >/dev/null 2>&1; then
	echo "1..0 # SKIP GNU parallel is not installed"
	exit 0
fi
"$GEN" -o "$T/ds" --scale 0.02 --seed 5 --categories chain_buckle,magnetic_block
nimg=$(find "$T/ds" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)

# The single, sharded and Slurm runs repeat what mirad-augment.sh and
# mirad-stats.sh leak-check; the merge's refusals are leak-checked again.
leak_checks off

# The single run, node by node, written where the merge will write (so the
# manifests' roots agree), then moved aside.
mkdir -p "$T/single" "$T/sharded"
rc=0
for node in node2 node5; do
	"$BIN/mirad-augment" -q --profile $node --severity all -o "$T/sharded/$node" "$T/ds" >"$T/single/$node.jsonl" || rc=$?
	"$BIN/mirad-stats" -q --format json "$T/single/$node.jsonl" >"$T/single/$node.stats.json" || rc=$?
done
expect_status "the single runs exit 0" 0
mv "$T/sharded" "$T/single/trees"

# The sharded run through GNU parallel.
rc=0
MIRAD_BIN=$BIN sh "$MIRAD_SRCDIR/examples/robustness-parallel.sh" "$T/ds" "$T/sharded" 3 "node2 node5" \
	>"$T/out" 2>"$T/err" || rc=$?
expect_status "robustness-parallel.sh with 3 shards exits 0" 0
check "no shard parts left after the merge" test ! -e "$T/sharded/parts"
expect_eq "nothing but the merged trees, manifests and statistics" \
	"$(ls -A "$T/sharded" | tr '\n' ' ')" \
	"node2 node2.jsonl node2.stats.json node5 node5.jsonl node5.stats.json "
for node in node2 node5; do
	if diff -r "$T/single/trees/$node" "$T/sharded/$node" >"$T/diff" 2>&1; then
		ok "$node: the merged tree equals the single run's (every file, byte for byte)"
	else
		not_ok "$node: the merged tree differs from the single run's"; diag "$T/diff"
	fi
	expect_same "$node: the merged manifest equals the single run's, in its order" \
		"$T/sharded/$node.jsonl" "$T/single/$node.jsonl"
	expect_same "$node: merged statistics equal the single run's" \
		"$T/sharded/$node.stats.json" "$T/single/$node.stats.json"
	expect_eq "$node: 5 severities of every image" "$(wc -l <"$T/sharded/$node.jsonl")" "$((5 * nimg))"
done
expect_eq "the trees hold no shard metadata" \
	"$(find "$T/sharded" -name '.mirad-shard*' | wc -l)" 0

# A second merge of the same node into the same place needs --force; a
# half set of parts is refused before anything is touched.
mkdir -p "$T/p"
for i in 0 1 2; do
	"$BIN/mirad-augment" -q -p node2 --severity all --shard "$i/3" -o "$T/p/$i" "$T/ds" >/dev/null
done
leak_checks on
run "$BIN/mirad-augment" --merge -o "$T/sharded/node2" "$T/p/0" "$T/p/1" "$T/p/2"
expect_status "a merge onto an existing folder without --force exits 3" 3
expect_grep "the existing folder is named" "node2: exists \(use --force" "$T/err"
check "the refused parts are kept" test -s "$T/p/1/.mirad-shard.jsonl"
run "$BIN/mirad-augment" --merge -f -o "$T/sharded/node2" "$T/p/0" "$T/p/2"
expect_status "a merge missing shard 1/3 exits 3" 3
expect_grep "the missing shard is named" "shard 1/3 missing" "$T/err"
run "$BIN/mirad-augment" --merge -f -o "$T/sharded/node2" "$T/p/2" "$T/p/1" "$T/p/0"
expect_status "the full set replaces it (--force)" 0
expect_same "and prints the single run's manifest again" "$T/out" "$T/single/node2.jsonl"
if diff -r "$T/single/trees/node2" "$T/sharded/node2" >"$T/diff" 2>&1; then
	ok "the replaced tree equals the single run's"
else
	not_ok "the replaced tree differs"; diag "$T/diff"
fi
expect_eq "no temporary folder or lock left" "$(ls -A "$T/sharded" "$T/p" | grep -c '\.tmp-\|\.lock')" 0

leak_checks off

# Slurm: the sbatch script computes its (node, shard) from the array task;
# all 18 tasks (6 nodes x 3 shards), then its merge step.
mkdir -p "$T/slurm"
rc=0
task=0
while [ $task -lt 18 ]; do
	SLURM_ARRAY_TASK_ID=$task SHARDS=3 PATH="$BIN:$PATH" \
		sh "$MIRAD_SRCDIR/examples/robustness.sbatch" "$T/ds" "$T/slurm" 2>>"$T/slurm.err" || rc=$?
	task=$((task + 1))
done
expect_status "18 array tasks (6 nodes x 3 shards) run" 0
check "task 17 rendered node6 shard 2" test -s "$T/slurm/parts/node6-2/.mirad-shard.jsonl"
check "task 4 rendered node2 shard 1" test -s "$T/slurm/parts/node2-1/.mirad-shard.jsonl"
rc=0
SHARDS=3 PATH="$BIN:$PATH" sh "$MIRAD_SRCDIR/examples/robustness.sbatch" --merge "$T/ds" "$T/slurm" \
	>"$T/out" 2>"$T/err" || rc=$?
expect_status "the sbatch merge step exits 0" 0
check "the merge step leaves no parts" test ! -e "$T/slurm/parts"
for node in node2 node5; do
	if diff -r "$T/single/trees/$node" "$T/slurm/$node" >"$T/diff" 2>&1; then
		ok "slurm $node: the merged tree equals the single run's"
	else
		not_ok "slurm $node: the merged tree differs"; diag "$T/diff"
	fi
	sed "s#\"root\":\"$T/slurm/#\"root\":\"$T/sharded/#" "$T/slurm/$node.jsonl" >"$T/$node.slurm"
	expect_same "slurm $node: the manifest equals the single run's (root aside), in its order" \
		"$T/$node.slurm" "$T/single/$node.jsonl"
done
expect_eq "slurm: all six nodes merged" "$(ls "$T/slurm" | grep -c '^node[1-6]\.stats\.json$')" 6

done_testing
