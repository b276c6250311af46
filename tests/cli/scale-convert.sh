#!/bin/sh
# SPDX-License-Identifier: MIT
# Sharded conversions: mirad-convert --shard I/N (or slurm) in 3 shards,
# joined with --merge, equals the single run byte for byte (tree, list
# files, --mapping file, manifest in its order, exit status); the merge's
# refusals change nothing.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python PIL
C=$BIN/mirad-convert

"$GEN" -o "$T/mir" --scale 0.02 --seed 7 --categories chain_buckle,magnetic_block,number_block >/dev/null
"$GEN" -o "$T/mvt" --scale 0.02 --seed 8 --layout mvtec --categories chain_buckle,magnetic_block >/dev/null
"$GEN" -o "$T/visa" --scale 0.02 --seed 9 --layout visa --categories chain_buckle,number_block >/dev/null
# A tree with hostile images: truncated, empty, huge, bad masks.
"$GEN" -o "$T/badds" --scale 0.02 --seed 7 --categories chain_buckle,magnetic_block >/dev/null
"$PY" "$MIRAD_SRCDIR/tests/cli/make_bad_images.py" "$T/badds" chain_buckle

# same_tree DESC A B: diff -r finds no difference.
same_tree() {
	if diff -r "$2" "$3" >"$T/diff" 2>&1; then ok "$1"; else
		not_ok "$1"; diag "$T/diff"; fi
}

# one_case NAME INPUT [OPTION...]: the single run vs $NSH shards
# ($SHARD=slurm: through the Slurm variables) and a merge, all writing OUT
# at the same place.  $MAP=no leaves out --mapping.
one_case() {
	oc_name=$1 oc_in=$2
	shift 2
	oc_d=$T/$oc_name
	oc_n=${NSH:-3}
	mkdir -p "$oc_d"
	set -- "$@" -q
	[ "${MAP:-yes}" = yes ] && set -- "$@" --mapping "$oc_d/map.csv"
	oc_src=0
	"$C" "$@" -o "$oc_d/out" "$oc_in" >"$oc_d/single.jsonl" 2>"$oc_d/single.err" || oc_src=$?
	mv "$oc_d/out" "$oc_d/single"
	[ -e "$oc_d/map.csv" ] && mv "$oc_d/map.csv" "$oc_d/single.map"
	oc_parts=""
	oc_worst=0
	oc_i=0
	while [ $oc_i -lt "$oc_n" ]; do
		oc_rc=0
		if [ "${SHARD:-}" = slurm ]; then
			# Array ids from 1 (SLURM_ARRAY_TASK_MIN is subtracted).
			SLURM_ARRAY_TASK_ID=$((oc_i + 1)) SLURM_ARRAY_TASK_MIN=1 \
				SLURM_ARRAY_TASK_COUNT=$oc_n \
				"$C" "$@" --shard slurm -o "$oc_d/p$oc_i" "$oc_in" >"$oc_d/p$oc_i.jsonl" 2>>"$oc_d/shards.err" || oc_rc=$?
		else
			"$C" "$@" --shard "$oc_i/$oc_n" -o "$oc_d/p$oc_i" "$oc_in" >"$oc_d/p$oc_i.jsonl" 2>>"$oc_d/shards.err" || oc_rc=$?
		fi
		[ $oc_rc -gt $oc_worst ] && oc_worst=$oc_rc
		oc_parts="$oc_d/p$oc_i $oc_parts" # reversed: any order will do
		oc_i=$((oc_i + 1))
	done
	expect_eq "$oc_name: the shards exit 0 or 1 like the single run" "$oc_worst" "$oc_src"
	expect_eq "$oc_name: the shards' manifests hold every record once" \
		"$(cat "$oc_d"/p*.jsonl | wc -l)" "$(wc -l <"$oc_d/single.jsonl")"
	check "$oc_name: no shard writes the map" test ! -e "$oc_d/map.csv"
	rc=0
	# shellcheck disable=SC2086
	"$C" --merge -o "$oc_d/out" $oc_parts >"$oc_d/merged.jsonl" 2>"$oc_d/merge.err" || rc=$?
	expect_eq "$oc_name: the merge exits like the single run ($oc_src)" "$rc" "$oc_src"
	same_tree "$oc_name: the merged tree equals the single run's" "$oc_d/single" "$oc_d/out"
	expect_same "$oc_name: the merged manifest equals the single run's, in order" \
		"$oc_d/merged.jsonl" "$oc_d/single.jsonl"
	if [ "${MAP:-yes}" = yes ]; then
		expect_same "$oc_name: the merged --mapping file equals the single run's" \
			"$oc_d/map.csv" "$oc_d/single.map"
	fi
	expect_eq "$oc_name: the parts are consumed, nothing temporary is left" \
		"$(ls -A "$oc_d" | grep -c '^p[0-9]*$\|\.tmp-\|\.lock$')" 0
}

# The cases repeat, shard by shard, conversions that mirad-convert.sh
# leak-checks; the merge's refusals below are leak-checked again.
leak_checks off
one_case mvtec "$T/mir" --to mvtec
expect_eq "mvtec: the shards wrote 1/3 each, the merge all" \
	"$(grep -c . "$T/mvtec/p1.jsonl") $(grep -c . "$T/mvtec/merged.jsonl")" \
	"$(awk 'NR % 3 == 2' "$T/mvtec/single.jsonl" | wc -l) $(grep -c . "$T/mvtec/single.jsonl")"

one_case visa-lists "$T/mir" --to visa --emit jsonl,visa-csv,tabular-csv,uniad,meta-json
for f in manifest.jsonl split_csv/1cls.csv tabular.csv train.json test.json meta.json chain_buckle/image_anno.csv; do
	check "visa-lists: $f is written" test -s "$T/visa-lists/out/$f"
done

one_case visa-prepared "$T/visa" --to visa-prepared
one_case prepared-collide "$T/mvt" --to visa-prepared --split-type 2cls_fewshot
check "prepared-collide: colliding stems got their folder's name" \
	test -n "$(find "$T/prepared-collide/out" -name '*_0*.png' | head -n 1)"

one_case resize "$T/mir" --to mirad --resize 40x32 --image-format jpg --quality 80
one_case bad "$T/badds" --to mvtec --emit jsonl
expect_grep "bad: the merge repeats why records were skipped" "bad_empty.png" "$T/bad/merge.err"
expect_eq "bad: the survivors are numbered without gaps" \
	"$(ls "$T/bad/out/chain_buckle/train/good" | tail -n 1)" \
	"$(printf '%03d.png' $(($(ls "$T/bad/out/chain_buckle/train/good" | wc -l) - 1)))"
check "bad: some images were skipped" \
	test "$(ls "$T/bad/out/chain_buckle/train/good" | wc -l)" -lt "$(ls "$T/badds/chain_buckle/train/good" | wc -l)"
# A malformed manifest line: every shard exits 1, and so does the merge.
"$BIN/mirad-split" "$T/mir" >"$T/badline.jsonl"
echo '{"category":' >>"$T/badline.jsonl"
MAP=no one_case badline "$T/badline.jsonl" --to mvtec
expect_eq "badline: the single run names the bad line" "$(grep -c 'badline.jsonl:' "$T/badline/single.err")" 1
MAP=no one_case emit-only "$T/mir" --emit uniad,tabular-csv
SHARD=slurm one_case slurm "$T/mir" --to mvtec --link copy
NSH=11 one_case eleven "$T/mir" --to visa --categories number_block

# Parts on another filesystem are copied (symbolic links stay links).
if [ -w /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$T")" ]; then
	S=$(mktemp -d /dev/shm/mirad-test.XXXXXX)
	trap 'rm -rf "$T" "$S"' EXIT
	"$C" -q --to mvtec --link symlink -o "$T/xfs-single" "$T/mir" >"$T/xfs-single.jsonl"
	for i in 0 1 2; do
		"$C" -q --to mvtec --link symlink --shard $i/3 -o "$S/p$i" "$T/mir" >/dev/null
	done
	run "$C" --merge -o "$T/xfs" "$S/p0" "$S/p1" "$S/p2"
	expect_status "parts on another filesystem merge (exit 0)" 0
	same_tree "parts on another filesystem: the tree equals the single run's" "$T/xfs-single" "$T/xfs"
	f=$(find "$T/xfs" -path '*/train/good/000.png' | head -n 1)
	check "parts on another filesystem: symbolic links stay links" test -L "$f"
	check "parts on another filesystem: consumed" test -z "$(ls -A "$S")"
else
	for i in 1 2 3 4; do ok "# SKIP /dev/shm is not another writable filesystem"; done
fi

# ---- the merge's refusals -----------------------------------------------
leak_checks on
E=$T/err-cases
mkdir -p "$E"
for i in 0 1 2; do
	"$C" -q --to mvtec --shard $i/3 -o "$E/q$i" "$T/mir" >/dev/null
done
"$C" -q --to mvtec --shard 1/3 -o "$E/q1again" "$T/mir" >/dev/null
"$C" -q --to mirad --shard 1/3 -o "$E/otherjob" "$T/mir" >/dev/null
"$C" -q --to mvtec --shard 1/4 -o "$E/otherN" "$T/mir" >/dev/null
"$BIN/mirad-augment" -q -p node1 --shard 1/3 -o "$E/augment" "$T/mir" >/dev/null
find "$E" -type f | LC_ALL=C sort | xargs cksum >"$E.before"

# merge_fails DESC STATUS REGEX PART...: refused, and nothing written.
merge_fails() {
	mf_desc=$1 mf_want=$2 mf_re=$3
	shift 3
	run "$C" --merge -o "$E/out" "$@"
	expect_status "$mf_desc: exit $mf_want" "$mf_want"
	expect_grep "$mf_desc: says why" "$mf_re" "$T/err"
	expect_empty "$mf_desc: prints no manifest" "$T/out"
	check "$mf_desc: no OUT" test ! -e "$E/out"
}
merge_fails "a missing shard" 3 "shard 1/3 missing \(give the folders of all 3 shards\)" "$E/q0" "$E/q2"
merge_fails "a shard twice" 3 "q1again: shard 1/3 again \(.*/q1 is that shard too\)" "$E/q0" "$E/q1" "$E/q1again" "$E/q2"
merge_fails "the same folder twice" 3 "q1: given twice" "$E/q0" "$E/q1" "$E/q1" "$E/q2"
merge_fails "a shard of another job" 3 "otherjob: a shard of another job" "$E/q0" "$E/otherjob" "$E/q2"
merge_fails "a shard of another N" 3 "otherN: shard 1/4, but the others are of 3 shards" "$E/q0" "$E/otherN" "$E/q2"
merge_fails "a non-shard folder" 3 "mir: not a shard folder" "$E/q0" "$T/mir" "$E/q2"
merge_fails "a missing folder" 3 "nothere: No such file" "$E/q0" "$E/nothere" "$E/q2"
merge_fails "a shard of mirad-augment" 3 "augment: a shard of mirad-augment, not of mirad-convert" "$E/q0" "$E/augment" "$E/q2"
echo x >"$E/q2/chain_buckle/stray.png"
merge_fails "a file the metadata does not list" 3 "q2/chain_buckle/stray.png: not in the shard's metadata" "$E/q0" "$E/q1" "$E/q2"
rm "$E/q2/chain_buckle/stray.png"
run "$C" --merge --shard 0/3 -o "$E/out" "$E/q0"
expect_status "--merge with --shard is a usage error" 2
expect_grep "--merge with --shard: says so" "cannot be used with --shard" "$T/err"
run "$C" --merge --to mvtec -o "$E/out" "$E/q0"
expect_status "--merge with a job option is a usage error" 2
expect_grep "--merge with --to: names it" "--to not allowed" "$T/err"
run "$C" --merge -o "$E/out"
expect_status "--merge without folders is a usage error" 2
run "$C" --to mvtec --shard 3/3 -o "$E/out" "$T/mir"
expect_status "--shard 3/3 is a usage error" 2
run env -u SLURM_ARRAY_TASK_ID "$C" --to mvtec --shard slurm -o "$E/out" "$T/mir"
expect_status "--shard slurm outside an array is a usage error" 2

# OUT exists: refused without --force and untouched, even with --force
# when the set is incomplete.
mkdir -p "$E/out"
echo keep >"$E/out/keep.txt"
run "$C" --merge -o "$E/out" "$E/q0" "$E/q1" "$E/q2"
expect_status "an existing OUT without --force: exit 3" 3
expect_grep "an existing OUT: says so" "out: exists \(use --force to replace" "$T/err"
run "$C" --merge -f -o "$E/out" "$E/q0" "$E/q2"
expect_status "--force with a missing shard: exit 3" 3
expect_eq "OUT is left as it was" "$(ls -A "$E/out" | tr '\n' ' ')$(cat "$E/out/keep.txt")" "keep.txt keep"
find "$E" -type f ! -path "$E/out/*" | LC_ALL=C sort | xargs cksum >"$E.after"
expect_same "the refused merges changed no part" "$E.before" "$E.after"
expect_eq "the refused merges left no temporary folder or lock" \
	"$(ls -A "$E" | grep -c '\.tmp-\|\.lock$')" 0

# --force replaces only a folder mirad-tools wrote: this one is refused.
run "$C" --merge -f -o "$E/out" "$E/q2" "$E/q1" "$E/q0"
expect_status "--force over a folder mirad-tools did not write: exit 3" 3
expect_grep "--force: says the folder is not ours" "not written by mirad-tools" "$T/err"
expect_eq "the unmarked OUT is left as it was" "$(ls -A "$E/out" | tr '\n' ' ')$(cat "$E/out/keep.txt")" "keep.txt keep"
# With --force and the full set, an earlier output is replaced; what a
# killed merge left beside OUT is swept.
rm -rf "$E/out"
"$C" --to mvtec -o "$E/out" "$T/mir" >/dev/null
echo keep >"$E/out/keep.txt"
mkdir -p "$E/.out.tmp-KILLED/chain_buckle"
run "$C" --merge -f -o "$E/out" "$E/q2" "$E/q1" "$E/q0"
expect_status "--force with the full set: exit 0" 0
sed "s#$T/mvtec/out#$E/out#g" "$T/mvtec/single.jsonl" >"$T/want"
expect_same "--force: the manifest equals the mvtec case's (root aside)" "$T/out" "$T/want"
check "--force: the old content is gone" test ! -e "$E/out/keep.txt"
expect_eq "--force: nothing temporary left, a killed run's leftovers swept" \
	"$(ls -A "$E" | grep -c '\.tmp-\|\.lock$')" 0

done_testing
