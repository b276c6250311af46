#!/bin/sh
# SPDX-License-Identifier: MIT
# Outputs never touch the inputs (TAP): an output folder that is, holds or
# lies inside an input is refused (2) by every tool that writes a folder,
# also through symbolic links; -f replaces only folders the family wrote;
# published folders have the usual mode; --link auto never hard-links into
# the source; a failing standard output after publishing is reported as
# such; mirad-augment cleans its lock and temporary folder on signals and
# places absolute manifest paths; atomic writes use unique temporary names.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
A="$BIN/mirad-augment -q -p $DATA/augment/identity.json"
C="$BIN/mirad-convert -q --to mvtec"
F="$BIN/mirad-fetch -q --no-progress"

# make_ds: the sample dataset at $T/p/ds (the generator is deterministic).
make_ds() {
	rm -rf "$T/p"
	mkdir -p "$T/p"
	"$GEN" -o "$T/p/ds" --scale 0.02 --categories building_block >/dev/null
}
make_ds
nimg=$(find "$T/p/ds" -name '*.png' ! -path '*ground_truth*' | wc -l)
"$BIN/mirad-split" "$T/p/ds" >"$T/m.jsonl"
# snap: the hashes of every file under $T/p (the dataset and its parent).
snap() { (cd "$T/p" && find . -type f | sort | xargs sha256sum); }
snap >"$T/snap0"
# intact DESC: the dataset and its parent are as generated (if not, they
# are made again, so that one failure does not hide the next checks).
intact() {
	snap >"$T/snap1"
	expect_same "$1" "$T/snap0" "$T/snap1" || true
	cmp -s "$T/snap0" "$T/snap1" || make_ds
}
# refused DESC: status 2, the reason named, nothing touched.
refused() {
	expect_status "$1 is refused (2)" 2
	expect_grep "$1: the reason is given" "(is|would hold|lies inside) the input" "$T/err"
	intact "$1: the dataset is intact"
}

# ---- OUT equal to, holding or inside an input -----------------------------
run $A -f -o "$T/p" "$T/p/ds"
refused "augment -f -o PARENT DS"
run $A -f -o "$T/p/ds" "$T/p/ds"
refused "augment -f -o DS DS"
run $A -f -o "$T/p/ds/building_block" "$T/p/ds"
refused "augment -f -o DS/building_block DS"
run $C -f -o "$T/p/ds/building_block" "$T/p/ds"
refused "convert -f -o DS/cat DS"
run $C -f -o "$T/p" "$T/m.jsonl"
refused "convert -f -o PARENT m.jsonl (the records' files)"
run $C -o "$T/p/ds/out" "$T/p/ds"
refused "convert -o DS/out DS (inside the input)"
check "convert -o DS/out DS creates nothing" test ! -e "$T/p/ds/out"
run $A -o "$T/p/ds/out" "$T/m.jsonl"
refused "augment -o DS/out m.jsonl (inside the manifest's root)"
# Through symbolic links.
ln -s "$T/p/ds" "$T/dslink"
ln -s "$T/p" "$T/plink"
run $C -f -o "$T/plink" "$T/p/ds"
refused "convert -f -o LINK-TO-PARENT DS"
run $A -o "$T/dslink/new" "$T/p/ds"
refused "augment -o LINK-TO-DS/new DS"
# Component-wise: DSx next to DS is not inside it.
run $C -o "$T/p/dsx" "$T/p/ds"
expect_status "an output named like the input plus a suffix is fine" 0
rm -rf "$T/p/dsx"

# mirad-stats adds charts and a mosaic: not into the dataset, not over an
# image; a folder that holds the dataset is fine, nothing is replaced.
run "$BIN/mirad-stats" -q --plots "$T/p/ds/plots" "$T/p/ds"
refused "stats --plots DS/plots DS"
run "$BIN/mirad-stats" -q --mosaic "$T/p/ds/building_block/train/good/000.png" "$T/p/ds"
refused "stats --mosaic over an input image"
run "$BIN/mirad-stats" -q --plots "$T/charts" "$T/m.jsonl"
expect_status "stats --plots elsewhere is fine" 0

# ---- --merge ---------------------------------------------------------------
for i in 0 1; do
	$A --shard "$i/2" -o "$T/ash$i" "$T/p/ds" >/dev/null
	$C --shard "$i/2" -o "$T/csh$i" "$T/p/ds" >/dev/null
done
run $BIN/mirad-augment --merge -f -o "$T/ash0/in" "$T/ash0" "$T/ash1"
expect_status "augment --merge into a part is refused (2)" 2
run $BIN/mirad-convert --merge -f -o "$T" "$T/csh0" "$T/csh1"
expect_status "convert --merge over the parts' parent is refused (2)" 2
check "the parts are intact" test -s "$T/csh0/.mirad-shard.jsonl" -a -s "$T/ash0/.mirad-shard.jsonl"

# ---- mirad-fetch: the archive inside the destination -----------------------
"$GEN" -o "$T/gen" --scale 0.02 --categories building_block --archive "$T/s.tar.gz" >/dev/null 2>&1
run $F --archive "$T/s.tar.gz" -o "$T/fetched"
expect_status "fetch unpacks the sample" 0
cp "$T/s.tar.gz" "$T/fetched/s.tar.gz"
run $F --force --archive "$T/fetched/s.tar.gz" -o "$T/fetched"
expect_status "fetch -f of an archive inside the destination is refused (2)" 2
check "the archive is kept" test -s "$T/fetched/s.tar.gz"

# ---- -f replaces only folders the family wrote -----------------------------
mkdir -p "$T/plain"
echo precious >"$T/plain/notes.txt"
run $C -f -o "$T/plain" "$T/p/ds"
expect_status "-f over a folder without the mark is refused (3)" 3
expect_grep "the refusal says why" "not written by mirad-tools" "$T/err"
check "the folder is kept" test -s "$T/plain/notes.txt"
run $A -f -o "$T/plain" "$T/p/ds"
expect_status "augment -f over it is refused too" 3
echo precious >"$T/afile"
run $C -f -o "$T/afile" "$T/p/ds"
expect_status "-f over a regular file is refused (3)" 3
expect_eq "the file is kept" "$(cat "$T/afile")" precious
run $C -o "$T/conv" "$T/p/ds"
expect_status "a conversion exits 0" 0
check "it carries the mark" test -s "$T/conv/.mirad-output.json"
run $C -f -o "$T/conv" "$T/p/ds"
expect_status "-f over a converted folder replaces it" 0
run $A -o "$T/aug" "$T/p/ds"
run $A -f -o "$T/aug" "$T/p/ds"
expect_status "-f over an augmented folder replaces it" 0

# ---- the published mode ------------------------------------------------------
rm -rf "$T/conv"
(umask 022 && exec $C -o "$T/conv" "$T/p/ds") >/dev/null 2>&1
expect_eq "the published folder has 0777 & ~umask" "$(stat -c %a "$T/conv")" 755
(umask 022 && exec $A -o "$T/aug2" "$T/p/ds") >/dev/null 2>&1
expect_eq "the augmented folder too" "$(stat -c %a "$T/aug2")" 755
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1; then
	chmod 755 "$T"
	f=$(cd "$T/conv" && find . -name '000.png' -path '*train*' | head -n 1)
	check "another user can read the converted tree" runuser -u nobody -- test -r "$T/conv/$f"
	f=$(cd "$T/aug2" && find . -name '*.png' | head -n 1)
	check "another user can read the augmented tree" runuser -u nobody -- test -r "$T/aug2/$f"
else
	ok "# SKIP another user (not root)"
	ok "# SKIP another user (not root)"
fi

# ---- --link auto never shares the source's inode ---------------------------
f=$(cd "$T/conv" && find . -path '*train/good/000.png')
expect_eq "--link auto: the output has its own inode" "$(stat -c %h "$T/conv/$f")" 1
printf 'overwritten in place' | dd of="$T/conv/$f" conv=notrunc 2>/dev/null
intact "an in-place edit of the converted tree leaves the dataset alone"

# ---- a failing standard output after publishing -----------------------------
rc=0; $C -o "$T/full" "$T/p/ds" >/dev/full 2>"$T/err" || rc=$?
expect_status "convert with a full standard output exits 3" 3
expect_grep "it says the tree was published" "full: the dataset was published" "$T/err"
expect_eq "the tree is complete" "$(find "$T/full" -name '*.png' ! -path '*ground_truth*' | wc -l)" "$nimg"
check "convert: no lock is left" test ! -e "$T/.full.lock"
run $C --mapping "$T/no/such/dir/map.csv" -o "$T/mapless" "$T/p/ds"
expect_status "convert with an unwritable --mapping exits 3" 3
expect_grep "it says the tree was published without the map" "map.csv \(.*mapless was published without it\)" "$T/err"
check "the tree is there" test -s "$T/mapless/.mirad-output.json"
# A closed pipe: a write error to report, not a kill by SIGPIPE.
closed_pipe() {
	"$PY" - "$@" <<'PYEOF'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=open(os.environ["T"] + "/err", "w"))
print(p.returncode if p.returncode >= 0 else 128 - p.returncode)
PYEOF
}
export T
rc=$(closed_pipe $BIN/mirad-augment -q -p "$DATA/augment/identity.json" -o "$T/piped" "$T/p/ds")
expect_status "augment with a closed standard output exits 3" 3
expect_grep "it says the tree was published" "piped: the dataset was published" "$T/err"
check "augment: the tree is there" test -s "$T/piped/.mirad-output.json"
check "augment: no lock is left after the closed pipe" test ! -e "$T/.piped.lock"

# ---- mirad-augment: lock first, cleanup on signals ---------------------------
# The manifest comes on standard input from a FIFO the test holds open, so
# the run waits in its input with the lock taken; then it gets the signal
# and EOF.
$A -o "$T/sig" "$T/p/ds" >/dev/null
snapsig() { (cd "$T/sig" && find . -type f | sort | xargs sha256sum); }
snapsig >"$T/sig0"
for s in INT TERM; do
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	$BIN/mirad-augment -q -p "$DATA/augment/identity.json" -f -o "$T/sig" - <"$T/fifo" >/dev/null 2>"$T/err" &
	pid=$!
	exec 3>"$T/fifo"
	head -n 1 "$T/m.jsonl" >&3
	if wait_for test -e "$T/.sig.lock"; then ok "SIG$s: the lock is taken before the input is read"; else not_ok "SIG$s: the lock is taken before the input is read"; fi
	kill -s "$s" "$pid"
	exec 3>&-
	rc=0; wait "$pid" || rc=$?
	if [ "$rc" -gt 128 ]; then ok "SIG$s: the run ends by the signal"; else not_ok "SIG$s: the run ends by the signal (status $rc)"; diag "$T/err"; fi
	check "SIG$s: no lock is left" test ! -e "$T/.sig.lock"
	check "SIG$s: no temporary folder is left" test -z "$(ls -A "$T" | grep '^\.sig\.tmp')"
	snapsig >"$T/sig1"
	expect_same "SIG$s: OUT is unchanged" "$T/sig0" "$T/sig1"
done

# ---- mirad-augment: absolute manifest paths ---------------------------------
"$PY" - "$T/m.jsonl" "$T/elsewhere" >"$T/abs.jsonl" <<'PYEOF'
import json, os, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "mirad_manifest" in r:
        continue
    root = r.get("root", "")
    r["image"] = os.path.join(root, r["image"])
    if r.get("mask"):
        r["mask"] = os.path.join(root, r["mask"])
    r["root"] = sys.argv[2]
    print(json.dumps(r, separators=(",", ":")))
PYEOF
mkdir -p "$T/elsewhere"
run $A -o "$T/absout" "$T/abs.jsonl"
expect_status "absolute image paths are augmented (0)" 0
expect_eq "every image is written" "$(find "$T/absout" -name '*.png' ! -path '*ground_truth*' | wc -l)" "$nimg"
expect_eq "one manifest line per image" "$(wc -l <"$T/out")" "$nimg"
check "placed as convert places them" test -n "$(find "$T/absout/building_block/train/good" -name '*.png' 2>/dev/null)"
sed 's#"image":"[^"]*"#"image":"/nonexistent/x.png"#; s#"mask":"[^"]*"#"mask":null#' "$T/abs.jsonl" | head -n 3 >"$T/none.jsonl"
run $A -o "$T/nothing" "$T/none.jsonl"
expect_status "a run that renders nothing exits 3" 3
check "and publishes nothing" test ! -e "$T/nothing"

# ---- single-file outputs never overwrite an input ----------------------------
cp "$T/m.jsonl" "$T/p/m.jsonl"
snap >"$T/snap0"
run "$BIN/mirad-stats" -q -o "$T/p/m.jsonl" "$T/p/m.jsonl"
refused "stats -o onto its own manifest"
img=$(find "$T/p/ds/building_block/test" -name '*.png' ! -path '*ground_truth*' | sort | head -n 1)
run "$BIN/mirad-stats" -q -o "$img" "$T/p/ds"
refused "stats -o onto a dataset image"
mask=$(find "$T/p/ds/building_block/ground_truth" -name '*.png' | sort | head -n 1)
mkdir -p "$T/nomaps"
run "$BIN/mirad-eval" -q --gt "$T/p/ds" --maps "$T/nomaps" -o "$mask"
refused "eval -o onto a mask"
run "$BIN/mirad-stats" -q -o "$T/p/ds/stats.md" "$T/p/ds"
expect_status "stats -o beside the images (a new file) is accepted" 0
rm -f "$T/p/ds/stats.md" "$T/p/m.jsonl"
snap >"$T/snap0"

# ---- atomic writes: unique temporary names ----------------------------------
# A file at the name an old writer would have used (.NAME.tmp-PID) is not
# written through.
echo precious >"$T/precious"
sh -c 'ln "$1" "$2/.mosaic.png.tmp-$$" && shift 2 && exec "$@"' sh "$T/precious" "$T" \
	"$BIN/mirad-stats" -q --mosaic "$T/mosaic.png" "$T/p/ds" >/dev/null 2>&1
expect_eq "a hard link at a predictable temporary name is not truncated" "$(cat "$T/precious")" precious
check "the mosaic is written" test -s "$T/mosaic.png"

done_testing
