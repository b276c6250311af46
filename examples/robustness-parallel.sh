#!/bin/sh
# SPDX-License-Identifier: MIT
# The robustness suite: every image of DATASET as if shot at each of the six
# simulated production nodes (built-in profiles node1..node6), at the five
# severities, sharded over GNU parallel.  Each job renders one shard of one
# node into its own folder; a merge step then joins the shards of a node
# (mirad-augment --merge: tree and manifest) and writes the statistics of
# the merged node.  The merged result is byte-identical to one unsharded
# run, manifest order included.
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
;; esac

# 2. Merge each node: mirad-augment --merge joins its shard folders into
#    the tree and manifest of one run (and removes them); mirad-stats then
#    describes the merged node.  (Statistics of each shard's images would
#    not merge: mirad-stats --merge takes only the shards of one job, and
#    each rendered shard is a dataset of its own.)
for node in $nodes; do
	set --
	i=0
	while [ $i -lt "$shards" ]; do
		set -- "$@" "$out/parts/$node-$i"
		i=$((i + 1))
	done
	${bin}mirad-augment -q --merge --force -o "$out/$node" "$@" >"$out/$node.jsonl"
	${bin}mirad-stats -q --format json -o "$out/$node.stats.json" "$out/$node.jsonl"
	echo "$node: $(wc -l <"$out/$node.jsonl") images in $out/$node" >&2
done
rm -rf "$out/parts"
