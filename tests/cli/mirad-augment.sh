#!/bin/sh
# SPDX-License-Identifier: MIT
# Black-box tests of mirad-augment (TAP).
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python numpy PIL
AUG=$BIN/mirad-augment
CHECK="$PY $DATA/augment/check.py"
PROF=$DATA/augment

common_cli_checks mirad-augment

# A small sample: 2 categories, a few dozen images of ~100 px.
"$GEN" -o "$T/ds" --scale 0.02 --categories building_block,chain_buckle >/dev/null
nimg=$(find "$T/ds" -name '*.png' ! -path '*ground_truth*' | wc -l)
nmask=$(find "$T/ds" -path '*ground_truth*' -name '*.png' | wc -l)

# --- basic run --------------------------------------------------------
run "$AUG" -q -p node3 -o "$T/o1" "$T/ds"
expect_status "node3 run exits 0" 0
expect_eq "one manifest line per image" "$(wc -l <"$T/out")" "$nimg"
cp "$T/out" "$T/m1"
expect_eq "every image written" "$(find "$T/o1" -name '*.png' ! -path '*ground_truth*' | wc -l)" "$nimg"
expect_eq "every mask written" "$(find "$T/o1" -path '*ground_truth*' -name '*.png' | wc -l)" "$nmask"
expect_grep "manifest has the variant" '"variant":"node3@s3#0"' "$T/m1"
expect_grep "manifest has the profile digest" '"profile_digest":"[0-9a-f]{64}"' "$T/m1"
expect_grep "manifest has sampled parameters" '"type":"white_balance","applied":true,"cct_k":[0-9.]+' "$T/m1"
expect_grep "manifest has pixel hashes" '"pixel_sha256":"[0-9a-f]{64}"' "$T/m1"
expect_grep "the run seed defaults to the profile's" '"run_seed":"0x6d1f3a9c2b7e4411"' "$T/m1"
expect_grep "records point at the output" "\"root\":\"$T/o1\"" "$T/m1"
expect_eq "no temporary folder left behind" "$(ls -a "$T" | grep -c '\.tmp-')" 0

# --- determinism -------------------------------------------------------
run "$AUG" -q -p node3 -f -o "$T/o1" "$T/ds"
expect_same "a repeat run gives the same manifest" "$T/m1" "$T/out"
VIPS_CONCURRENCY=1 "$AUG" -q -j1 -p node3 -o "$T/c1" "$T/ds" | sed 's/"root":"[^"]*",//' >"$T/mc1"
VIPS_CONCURRENCY=2 "$AUG" -q -j2 -p node3 -o "$T/c2" "$T/ds" | sed 's/"root":"[^"]*",//' >"$T/mc2"
expect_same "VIPS_CONCURRENCY=1 -j1 and =2 -j2 agree" "$T/mc1" "$T/mc2"
run "$AUG" -q -p node3 --seed 7 -o "$T/o7" "$T/ds"
if cmp -s "$T/m1" "$T/out"; then not_ok "another seed changes the outputs"; else ok "another seed changes the outputs"; fi

# Shards: 3 shards of a 2-variant run equal the unsharded run.
"$AUG" -q -p node5 -n 2 -o "$T/all" "$T/ds" >"$T/mall"
: >"$T/mshards"
for i in 0 1 2; do
	"$AUG" -q -p node5 -n 2 --shard "$i/3" -o "$T/sh$i" "$T/ds" >>"$T/mshards"
done
$CHECK keys "$T/mall" >"$T/kall"
$CHECK keys "$T/mshards" >"$T/kshards"
expect_same "union of --shard 0/3 1/3 2/3 equals the single run" "$T/kall" "$T/kshards"
expect_eq "2 variants per image" "$(wc -l <"$T/mall")" "$((2 * nimg))"
expect_eq "variant folders" "$(ls "$T/all" | tr '\n' ' ')" "s3-v0 s3-v1 "
if [ "$(wc -l <"$T/mshards")" -gt 0 ] && [ -n "$(ls "$T/sh0")" ]; then ok "shards write their part"; else not_ok "shards write their part"; fi
check "a shard records its pairs" test -s "$T/sh0/.mirad-shard.jsonl"
run "$AUG" --merge -p node5 -o "$T/merged" "$T/sh0" "$T/sh1" "$T/sh2"
expect_status "--merge with a job option is a usage error" 2
expect_grep "the option is named" "merge takes the options from the shards: -p not allowed" "$T/err"
run "$AUG" --merge --shard 1/3 -o "$T/merged" "$T/sh0" "$T/sh1" "$T/sh2"
expect_status "--merge with --shard is a usage error" 2
run "$AUG" --merge -o "$T/merged" "$T/sh0" "$T/sh2"
expect_status "--merge without shard 1 exits 3" 3
expect_grep "the missing shard is named" "shard 1/3 missing" "$T/err"
check "a refused merge writes nothing" test ! -e "$T/merged"
run "$AUG" --merge -o "$T/merged" "$T/sh2" "$T/sh0" "$T/sh1"
expect_status "--merge of the three shards exits 0" 0
sed "s#\"root\":\"$T/merged/#\"root\":\"$T/all/#" "$T/out" >"$T/mmerged"
expect_same "the merged manifest is the single run's, in its order" "$T/mmerged" "$T/mall"
if diff -r "$T/all" "$T/merged" >"$T/diff" 2>&1; then ok "the merged tree is the single run's"; else
	not_ok "the merged tree is the single run's"; diag "$T/diff"; fi
check "the merge consumes the shard folders" test ! -e "$T/sh0" -a ! -e "$T/sh1" -a ! -e "$T/sh2"

# --- masks and identity -------------------------------------------------
run "$AUG" -q -p "$PROF/identity.json" -o "$T/id" "$T/ds"
expect_status "identity profile exits 0" 0
expect_eq "identity profile reproduces every input pixel" "$($CHECK same "$T/ds" "$T/out")" "same $nimg/$nimg"
run "$AUG" -q -p "$PROF/photometric.json" -o "$T/ph" "$T/ds"
expect_status "photometric profile exits 0" 0
cp "$T/out" "$T/mph"
same=0
for m in $(cd "$T/ds" && find . -path '*ground_truth*' -name '*.png'); do
	cmp -s "$T/ds/$m" "$T/ph/$m" && same=$((same + 1))
done
expect_eq "photometric profile leaves masks byte-identical" "$same" "$nmask"
expect_eq "photometric profile changes images" "$($CHECK same "$T/ds" "$T/mph")" "same 0/$nimg"
run "$AUG" -q -p "$PROF/geometric.json" -o "$T/geo" "$T/ds"
expect_status "geometric profile exits 0" 0
cp "$T/out" "$T/mgeo"
expect_eq "geometric profile: masks stay {0,255}, image size" "$($CHECK binary "$T/mgeo")" "binary $nmask/$nmask"
expect_eq "geometric profile warps the masks" "$($CHECK changed "$T/mgeo")" "changed $nmask/$nmask"
expect_grep "warped masks are hashed" '"mask_sha256":"[0-9a-f]{64}"' "$T/mgeo"

# --- severity monotonicity, every built-in profile ------------------------
"$GEN" -o "$T/one" --scale 0.02 --categories building_block --image-scale 1.5 >/dev/null
for n in 1 2 3 4 5 6; do
	"$AUG" -q -p "node$n" -s all -o "$T/sev$n" "$T/one" >"$T/msev$n"
	got=$($CHECK severity "$T/one" "$T/msev$n")
	case $got in
	increasing*) ok "node$n: difference grows from s1 to s5 ($got)" ;;
	*) not_ok "node$n: difference grows from s1 to s5 ($got)" ;;
	esac
done
expect_eq "--severity all: one folder per severity" "$(ls "$T/sev1" | tr '\n' ' ')" "s1 s2 s3 s4 s5 "

# --- inputs: manifests and JPEG ----------------------------------------
"$BIN/mirad-split" "$T/ds" >"$T/split.jsonl"
run_in "$T/split.jsonl" "$AUG" -q -p node1 -o "$T/fromstdin" -
expect_status "a manifest on stdin works" 0
expect_eq "manifest input: one line per record" "$(wc -l <"$T/out")" "$nimg"
"$GEN" -o "$T/jpg" --scale 0.01 --categories building_block --format jpg >/dev/null
run "$AUG" -q -p node2 -o "$T/jo" "$T/jpg"
expect_status "JPEG dataset exits 0" 0
if $PY -c "import sys; from PIL import Image; [Image.open(l.split()[0]).load() for l in sys.stdin]" \
	<<EOF2
$(find "$T/jo" -name '*.jpg' ! -path '*ground_truth*')
EOF2
then ok "JPEG outputs decode"; else not_ok "JPEG outputs decode"; fi

# --- built-in profiles are the shipped files ------------------------------
for n in 1 2 3 4 5 6; do
	"$AUG" --print-profile "node$n" >"$T/p$n.json"
	expect_same "built-in node$n equals examples/profiles/node$n.json" "$T/p$n.json" "$MIRAD_SRCDIR/examples/profiles/node$n.json"
done
run "$AUG" --list-profiles
expect_eq "--list-profiles lists six nodes" "$(grep -c '^node[1-6] ' "$T/out")" 6
run "$AUG" --list-effects
expect_eq "--list-effects lists 14 effects" "$(grep -cE '^[a-z_]+( \(geometric: masks warped\))?: ' "$T/out")" 14
run "$AUG" --explain node2
expect_grep "--explain gives numbers per severity" '^     s5: 0\.45$' "$T/out"

# --- errors -------------------------------------------------------------
bad() { # bad NAME JSON-TEXT REGEX
	printf '%s\n' "$2" >"$T/$1.json"
	run "$AUG" -p "$T/$1.json" -o "$T/never" "$T/ds"
	expect_status "bad profile ($1) exits 2" 2
	expect_grep "bad profile ($1) message" "$3" "$T/err"
}
HEAD='{"format": "mirad-augment/profile@1", "name": "x",'
bad unknown_key "$HEAD
 \"effects\": [
  {\"type\": \"exposure\",
   \"evv\": 1}]}" "unknown_key.json:4: effect 1: exposure: unknown key 'evv'"
bad duplicate "$HEAD
 \"effects\": [
  {\"type\": \"exposure\", \"ev\": 1,
   \"ev\": 2}]}" "duplicate.json:4: duplicate key 'ev'"
bad range "$HEAD
 \"effects\": [{\"type\": \"vignetting\",
  \"corner_falloff\": {\"lerp_severity\": [1, 1.5]}}]}" "range.json:3: effect 1: vignetting: corner_falloff: value 1.5 out of range"
bad order "$HEAD
 \"effects\": [{\"type\": \"jpeg\", \"quality\": 50},
  {\"type\": \"exposure\", \"ev\": 1}]}" "order.json:3: effect 2: exposure comes after jpeg"
bad syntax "$HEAD
 \"effects\": [
  {\"type\": \"exposure\" \"ev\": 1}]}" "syntax.json:3: not valid JSON"
bad top "$HEAD \"colour\": 1, \"effects\": []}" "unknown key 'colour'"
check "no output folder after a bad profile" test ! -e "$T/never"
run "$AUG" -p nodeX -o "$T/never" "$T/ds"
expect_status "unknown profile name exits 2" 2
expect_grep "unknown profile name is explained" "nodeX: .*--list-profiles" "$T/err"
run "$AUG" -p node1 -s 6 -o "$T/never" "$T/ds"
expect_status "severity 6 is a usage error" 2
run "$AUG" -p node1 --shard 3/3 -o "$T/never" "$T/ds"
expect_status "shard 3/3 is a usage error" 2
run "$AUG" -p node1 "$T/ds"
expect_status "missing -o is a usage error" 2
before=$(cd "$T/o1" && find . -type f | sort | xargs cat | cksum)
run "$AUG" -q -p node1 -o "$T/o1" "$T/ds"
expect_status "an existing OUT without --force is fatal" 3
expect_grep "an existing OUT: --force is suggested" "o1: exists \(use --force" "$T/err"
expect_eq "an existing OUT is left alone" "$(cd "$T/o1" && find . -type f | sort | xargs cat | cksum)" "$before"

# A damaged image is skipped (status 1), the others are written.
cp -r "$T/ds" "$T/dmg"
victim=$(find "$T/dmg" -path '*test/good/*.png' | head -1)
head -c 200 "$victim" >"$victim.x" && mv "$victim.x" "$victim"
run "$AUG" -q -p node1 -o "$T/dmgo" "$T/dmg"
expect_status "a damaged image gives status 1" 1
expect_grep "the damaged image is named" "$(basename "$victim").*skipped" "$T/err"
expect_eq "the other images are written" "$(wc -l <"$T/out")" "$((nimg - 1))"

done_testing
