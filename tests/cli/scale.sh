#!/bin/sh
# SPDX-License-Identifier: MIT
# Scale-out: the robustness suite of examples/ run with GNU parallel in 3
# shards equals the single-machine run (trees, manifests, statistics).
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

if ! command -v parallel >/dev/null 2>&1; then
	echo "1..0 # SKIP GNU parallel is not installed"
	exit 0
fi
"$GEN" -o "$T/ds" --scale 0.02 --seed 5 --categories chain_buckle,magnetic_block

# The single run, node by node.
mkdir -p "$T/single"
for node in node2 node5; do
	"$BIN/mirad-augment" -q --profile $node --severity all -o "$T/single/$node" "$T/ds" >"$T/single/$node.raw"
	sed "s#\"root\":\"$T/single/$node/#\"root\":\"X/#" "$T/single/$node.raw" | LC_ALL=C sort >"$T/single/$node.jsonl"
	"$BIN/mirad-stats" -q --format json "$T/single/$node.raw" >"$T/single/$node.stats.json"
done

# The sharded run through GNU parallel.
rc=0
MIRAD_BIN=$BIN sh "$MIRAD_SRCDIR/examples/robustness-parallel.sh" "$T/ds" "$T/sharded" 3 "node2 node5" \
	>"$T/out" 2>"$T/err" || rc=$?
expect_status "robustness-parallel.sh with 3 shards exits 0" 0
check "no shard parts left after the merge" test ! -e "$T/sharded/parts"
for node in node2 node5; do
	if diff -r "$T/single/$node" "$T/sharded/$node" >"$T/diff" 2>&1; then
		ok "$node: union of 3 shard trees equals the single run (every file, byte for byte)"
	else
		not_ok "$node: shard trees differ from the single run"; diag "$T/diff"
	fi
	sed "s#\"root\":\"$T/sharded/$node/#\"root\":\"X/#" "$T/sharded/$node.jsonl" | LC_ALL=C sort >"$T/$node.merged"
	expect_same "$node: merged manifests equal the single run's" "$T/$node.merged" "$T/single/$node.jsonl"
	expect_same "$node: merged statistics equal the single run's" "$T/sharded/$node.stats.json" "$T/single/$node.stats.json"
	expect_eq "$node: 5 severities of every image" "$(wc -l <"$T/$node.merged")" \
		"$((5 * $(find "$T/ds" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)))"
done

# Slurm: the sbatch script computes its (node, shard) from the array task.
mkdir -p "$T/slurm"
for task in 0 1 2 3 4 5; do
	SLURM_ARRAY_TASK_ID=$task SHARDS=3 PATH="$BIN:$PATH" \
		sh "$MIRAD_SRCDIR/examples/robustness.sbatch" "$T/ds" "$T/slurm" 2>>"$T/slurm.err" || rc=$?
done
expect_status "six array tasks (2 nodes x 3 shards) run" 0
check "task 5 rendered node2 shard 2" test -s "$T/slurm/parts/node2-2.jsonl"
check "task 0 rendered node1 shard 0" test -s "$T/slurm/parts/node1-0.jsonl"

done_testing
