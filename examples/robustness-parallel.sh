#!/bin/sh
# SPDX-License-Identifier: MIT
# The robustness suite: every image of DATASET as if shot at each of the six
# simulated production nodes (built-in profiles node1..node6), at the five
# severities, sharded over GNU parallel.  Each job renders one shard of one
# node into its own folder; a merge step then joins the shards of a node
# (trees and manifests) and computes its statistics from mergeable
# partials.  The merged result is byte-identical to one unsharded run.
#
#   robustness-parallel.sh DATASET OUT [SHARDS] [NODES]
#
# SHARDS defaults to 6, NODES to "node1 node2 node3 node4 node5 node6".
# Across machines, add e.g. PARALLEL="--sshlogin 8/host1,8/host2 --sshdelay 0.1"
# (DATASET and OUT must then be on shared storage).  The tools are taken
# from $MIRAD_BIN (default: PATH).  STEPS=merge runs the merge step only
# (for parts rendered elsewhere, e.g. by a Slurm array).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DATASET OUT [SHARDS] [NODES]" >&2; exit 2; }
dataset=$(cd "$1" && pwd)
out=$2
shards=${3:-6}
nodes=${4:-node1 node2 node3 node4 node5 node6}
bin=${MIRAD_BIN:+$MIRAD_BIN/}
mkdir -p "$out/parts"
out=$(cd "$out" && pwd)

steps=${STEPS:-render,merge}
case $steps in *render*)
# 1. Render: one job per (node, shard); each writes only its own files.
# shellcheck disable=SC2086
parallel ${PARALLEL:-} --halt now,fail=1 \
	"${bin}mirad-augment -q --profile {1} --severity all --shard {2}/$shards \
	  -o $out/parts/{1}-{2} --force $dataset > $out/parts/{1}-{2}.jsonl" \
	::: $nodes ::: $(seq 0 $((shards - 1)))

# 2. Statistics per shard, as mergeable partials.
# shellcheck disable=SC2086
parallel ${PARALLEL:-} --halt now,fail=1 \
	"${bin}mirad-stats -q --partial $out/parts/{1}-{2}.jsonl > $out/parts/{1}-{2}.stats.json" \
	::: $nodes ::: $(seq 0 $((shards - 1)))
;; esac

# 3. Merge each node: the union of its shard trees, one sorted manifest
#    pointing at the merged tree, and the merged statistics.
for node in $nodes; do
	rm -rf "$out/$node" "$out/$node.jsonl.tmp"
	mkdir -p "$out/$node"
	i=0
	while [ $i -lt "$shards" ]; do
		part=$out/parts/$node-$i
		cp -a "$part/." "$out/$node/"
		sed "s#\"root\":\"$part/#\"root\":\"$out/$node/#" "$part.jsonl" >>"$out/$node.jsonl.tmp"
		i=$((i + 1))
	done
	LC_ALL=C sort "$out/$node.jsonl.tmp" >"$out/$node.jsonl"
	rm "$out/$node.jsonl.tmp"
	# shellcheck disable=SC2046
	${bin}mirad-stats -q --merge --format json \
		$(ls "$out/parts/$node"-*.stats.json) >"$out/$node.stats.json"
	echo "$node: $(wc -l <"$out/$node.jsonl") images in $out/$node" >&2
done
rm -rf "$out/parts"
