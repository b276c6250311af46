#!/bin/sh
# SPDX-License-Identifier: MIT
# Black-box tests of mirad-split: the native manifest, every protocol
# option, the output formats, and VisA's three split files.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python
SPLIT="$BIN/mirad-split"

common_cli_checks mirad-split

# The MIRAD sample (scale 0.1: 480 images) and an MVTec-layout copy with
# per-defect folders.
"$GEN" -o "$T/s" --scale 0.1 >/dev/null 2>&1
"$GEN" -o "$T/mv" --scale 0.1 --layout mvtec >/dev/null 2>&1
S=$T/s
n_images=$(find "$S" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)

# stats FILE: "split label count" lines, sorted, from a manifest.
stats() {
	$PY - "$1" <<'EOF'
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "mirad_manifest" in r:
        continue
    c[(r["split"], r["label"])] += 1
for k in sorted(c):
    print(k[0], k[1], c[k])
EOF
}

## Native split (the default is unchanged: no header line)
run "$SPLIT" "$S"
expect_status "native split exits 0" 0
expect_eq "native split lists every image" "$(wc -l <"$T/out")" "$n_images"
expect_no_grep "native split has no header" 'mirad_manifest' "$T/out"
cp "$T/out" "$T/native.jsonl"

## Determinism: same seed same bytes, another seed other lists
run "$SPLIT" --shots 2 --seed 7 "$S"; cp "$T/out" "$T/a.jsonl"
run "$SPLIT" --shots 2 --seed 7 "$S"; cp "$T/out" "$T/b.jsonl"
expect_same "same seed gives the same bytes" "$T/a.jsonl" "$T/b.jsonl"
run "$SPLIT" --shots 2 --seed 8 "$S"
if cmp -s "$T/out" "$T/a.jsonl"; then not_ok "another seed gives other lists"; else ok "another seed gives other lists"; fi
expect_grep "header records seed and shots" '^\{"mirad_manifest":1,"tool":"mirad-split","seed":7,"shots":2\}$' "$T/a.jsonl"
run "$SPLIT" --shots 2 "$S"
expect_grep "default seed 0 is recorded" '"seed":0,' "$T/out"

## The K-shot choice is exactly the documented keyed hash
$PY - "$T/native.jsonl" "$T/a.jsonl" 7 2 >"$T/py" <<'EOF'
import hashlib, json, sys, collections
native, got, seed, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pool = collections.defaultdict(list)
for line in open(native):
    r = json.loads(line)
    if r["split"] == "train" and r["label"] == "normal":
        key = int.from_bytes(hashlib.sha256(f"{seed}:{r['image']}".encode()).digest()[:8], "big")
        pool[r["category"]].append((key, r["image"]))
want = sorted(img for c in pool for _, img in sorted(pool[c])[:k])
have = sorted(json.loads(l)["image"] for l in open(got)
              if '"split":"train"' in l and '"label":"normal"' in l)
print("same" if want == have else "differ: %d vs %d" % (len(want), len(have)))
EOF
expect_eq "2-shot set equals SHA-256(seed:path) smallest keys" "$(cat "$T/py")" same

## Nesting, and one file per K with -o PREFIX
run "$SPLIT" --shots 1,2,4,8 --seed 3 -o "$T/k" "$S"
expect_status "several K with -o exit 0" 0
check "one file per K" test -s "$T/k-1shot.jsonl" -a -s "$T/k-2shot.jsonl" -a -s "$T/k-4shot.jsonl" -a -s "$T/k-8shot.jsonl"
for k in 1 2 4 8; do
	grep '"split":"train"' "$T/k-${k}shot.jsonl" | grep -o '"image":"[^"]*"' | sort >"$T/train$k"
done
expect_eq "1-shot lists 1 image per category" "$(wc -l <"$T/train1")" 10
expect_eq "8-shot lists 8 images per category" "$(wc -l <"$T/train8")" 80
check "1-shot within 2-shot" test -z "$(comm -23 "$T/train1" "$T/train2")"
check "2-shot within 4-shot" test -z "$(comm -23 "$T/train2" "$T/train4")"
check "4-shot within 8-shot" test -z "$(comm -23 "$T/train4" "$T/train8")"
run "$SPLIT" --shots 4 --seed 3 "$S"
expect_same "per-K file equals the single-K run" "$T/out" "$T/k-4shot.jsonl"
run "$SPLIT" --shots 1,2 --seed 3 -o - "$S"
expect_eq "several K on stdout: a shots field on every record" \
	"$(grep -c '"shots":1}$' "$T/out") $(grep -c '"shots":2}$' "$T/out")" \
	"$(grep -vc mirad_manifest "$T/k-1shot.jsonl") $(grep -vc mirad_manifest "$T/k-2shot.jsonl")"
expect_grep "combined header lists every K" '"shots":\[1,2\]' "$T/out"

## Stability: an image added to one category reshuffles no other
cp -r "$S" "$T/s2"
cp "$S/building_block/train/good/000.png" "$T/s2/building_block/train/good/999.png"
run "$SPLIT" --shots 4 --seed 3 "$T/s2"
grep '"split":"train"' "$T/out" | grep -v building_block | grep -o '"image":"[^"]*"' | sort >"$T/t2"
grep -v building_block "$T/train4" >"$T/t1"
expect_same "other categories keep their 4-shot sets" "$T/t1" "$T/t2"
expect_eq "the changed category still has 4" "$(grep '"split":"train"' "$T/out" | grep -c building_block)" 4

## Manifest on stdin gives the same as the directory
run_in "$T/native.jsonl" "$SPLIT" --shots 4 --seed 3 -
expect_same "stdin manifest and directory agree" "$T/out" "$T/k-4shot.jsonl"

## --val
run "$SPLIT" --val 0.1 "$S"
$PY - "$T/native.jsonl" "$T/out" >"$T/py" <<'EOF'
import json, sys, collections, math
n = collections.Counter(); v = collections.Counter(); t = collections.Counter()
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["split"] == "train": n[r["category"]] += 1
for l in open(sys.argv[2]):
    r = json.loads(l)
    if "mirad_manifest" in r: continue
    if r["split"] == "val": v[r["category"]] += 1; assert r["label"] == "normal"
    if r["split"] == "train": t[r["category"]] += 1
ok = all(v[c] == max(1, math.floor(0.1 * n[c] + 0.5)) and t[c] == n[c] - v[c] for c in n)
print("ok" if ok else "bad %s %s" % (dict(n), dict(v)))
EOF
expect_eq "--val 0.1 moves round(10%) of each category's train to val" "$(cat "$T/py")" ok
run "$SPLIT" --val 3 "$S"
expect_eq "--val 3 moves 3 per category" "$(stats "$T/out" | grep '^val')" "val normal 30"

## Composition: --shots 8 --val 0.1 --merge all
run "$SPLIT" --shots 8 --val 0.1 --merge-categories all "$S"
expect_status "composition exits 0" 0
expect_eq "composition counts" "$(stats "$T/out" | tr '\n' ' ')" \
	"test anomaly $(grep -c '"label":"anomaly"' "$T/native.jsonl") test normal $(grep '"split":"test"' "$T/native.jsonl" | grep -c '"label":"normal"') train normal 80 val normal 24 "
expect_eq "composition: one category" "$(grep -v mirad_manifest "$T/out" | grep -vc '"category":"all"')" 0
expect_eq "composition: categories kept in source_category" \
	"$(grep -o '"source_category":"[a-z_]*"' "$T/out" | sort -u | wc -l)" 10
expect_eq "composition: image names unique" \
	"$(grep -o '"image":"[^"]*"' "$T/out" | sort | uniq -d | wc -l)" 0
run "$SPLIT" --shots 8 --val 0.1 "$S"
grep '"split":"val"' "$T/out" | grep -o '"image":"[^"]*"' | sort >"$T/v8"
run "$SPLIT" --shots 2 --val 0.1 "$S"
grep '"split":"val"' "$T/out" | grep -o '"image":"[^"]*"' | sort >"$T/v2"
expect_same "val does not depend on K" "$T/v2" "$T/v8"

## --train-anomalies and --stratify defect
run "$SPLIT" --train-anomalies 3 "$S"
expect_eq "--train-anomalies 3: 30 anomalies in train" "$(stats "$T/out" | grep '^train anomaly')" "train anomaly 30"
expect_eq "train anomalies keep their masks" "$(grep '"split":"train"' "$T/out" | grep '"label":"anomaly"' | grep -c '"mask":"[^"]')" 30
run "$SPLIT" --train-anomalies 0.2 --stratify defect "$T/mv"
cp "$T/out" "$T/strat.jsonl"
run "$SPLIT" "$T/mv"
$PY - "$T/out" "$T/strat.jsonl" >"$T/py" <<'EOF'
import json, sys, collections, math
def load(p):
    return [r for r in map(json.loads, open(p)) if "mirad_manifest" not in r]
native, got = load(sys.argv[1]), load(sys.argv[2])
size = collections.Counter((r["category"], r["defect"]) for r in native if r["label"] == "anomaly")
moved = collections.Counter((r["category"], r["defect"]) for r in got if r["label"] == "anomaly" and r["split"] == "train")
bad = []
for cat in sorted({c for c, _ in size}):
    ds = sorted(d for c, d in size if c == cat)
    n = sum(size[(cat, d)] for d in ds)
    want = max(1, math.floor(0.2 * n + 0.5))
    quota = {d: want * size[(cat, d)] // n for d in ds}
    rem = {d: want * size[(cat, d)] % n for d in ds}
    for _ in range(want - sum(quota.values())):
        best = max(ds, key=lambda d: (rem[d], -ds.index(d)))
        quota[best] += 1; rem[best] = -1
    for d in ds:
        if moved[(cat, d)] != quota[d]:
            bad.append((cat, d, moved[(cat, d)], quota[d]))
print("ok" if not bad else bad[:3])
EOF
expect_eq "--stratify defect: largest-remainder quota per defect type" "$(cat "$T/py")" ok

## --folds / --fold: disjoint val folds covering the test set
: >"$T/folds"
for i in 0 1 2 3; do
	run "$SPLIT" --folds 4 --fold $i --stratify defect "$T/mv"
	grep '"split":"val"' "$T/out" | grep -o '"image":"[^"]*"' >>"$T/folds"
done
expect_eq "4 folds cover the test set once" "$(sort "$T/folds" | uniq | wc -l) $(wc -l <"$T/folds")" \
	"$(grep -c '"split":"test"' "$T/native.jsonl") $(grep -c '"split":"test"' "$T/native.jsonl")"
run "$SPLIT" --folds 4 --fold 1 "$S"
$PY - "$T/out" >"$T/py" <<'EOF'
import json, sys, collections
c = collections.Counter(); t = collections.Counter()
for r in map(json.loads, open(sys.argv[1])):
    if "mirad_manifest" in r: continue
    if r["split"] in ("val", "test"): t[r["category"]] += 1
    if r["split"] == "val": c[r["category"]] += 1
print("ok" if all(t[k] // 4 <= c[k] <= -(-t[k] // 4) for k in t) else dict(c))
EOF
expect_eq "each fold holds a quarter of each category's test set" "$(cat "$T/py")" ok

## --categories
run "$SPLIT" --categories chain_buckle,number_block "$S"
expect_eq "--categories keeps two" "$(grep -o '"category":"[a-z_]*"' "$T/out" | sort -u | tr '\n' ' ')" \
	'"category":"chain_buckle" "category":"number_block" '
run "$SPLIT" --categories chain_buckle,bogus "$S"
expect_status "unknown category is a usage error" 2
expect_grep "it lists the categories" "unknown category 'bogus' \(available: building_block, chain_buckle, .*rabbit_pendant\)" "$T/err"
expect_empty "nothing written on a usage error" "$T/out"

## --nodes and --by node=1,2,3
run "$SPLIT" --nodes "$S/nodes.csv" --by node=1,2,3 "$S"
expect_status "cross-node split exits 0" 0
$PY - "$S/nodes.csv" "$T/out" >"$T/py" <<'EOF'
import csv, json, sys
node = {r["image"]: int(r["node"]) for r in csv.DictReader(open(sys.argv[1]))}
bad = 0; n = {"train": 0, "test": 0}
recs = [r for r in map(json.loads, open(sys.argv[2])) if "mirad_manifest" not in r]
for r in recs:
    assert r["node"] == node[r["image"]]
    n[r["split"]] += 1
    if r["split"] == "train":
        bad += not (r["node"] <= 3 and r["label"] == "normal")
    else:
        bad += r["node"] <= 3 and r["label"] == "normal"
        bad += r["node"] <= 3 and r["label"] == "anomaly"
want_train = sum(1 for i, k in node.items() if k <= 3 and "/ground_truth/" not in i and "/anomaly/" not in i)
print("ok" if bad == 0 and n["train"] == want_train else (bad, n, want_train))
EOF
expect_eq "--by node=1,2,3: train = normal images of nodes 1-3, test = nodes 4-6" "$(cat "$T/py")" ok
run "$SPLIT" --by node=1 "$S"
expect_status "--by on a missing field is a usage error" 2
expect_grep "it points to --nodes" "no record has a field 'node'" "$T/err"
run "$SPLIT" --nodes "$S/nodes.csv" --by node=9 "$S"
expect_status "--by with an absent value is a usage error" 2
expect_grep "it lists the values" "no record has node=9 \(values: 1, 2, 3, 4, 5, 6\)" "$T/err"

## Bad requests are usage errors that say what is available
run "$SPLIT" --shots 500 "$S"
expect_status "K larger than available exits 2" 2
expect_grep "it says how many there are" "--shots 500: category building_block has only 26 normal training images" "$T/err"
run "$SPLIT" --val 1.5 "$S"
expect_status "--val 1.5 exits 2" 2
expect_grep "--val names the range" "between 0 and 1" "$T/err"
run "$SPLIT" --val 30 "$S"
expect_status "--val taking all train exits 2" 2
run "$SPLIT" --train-anomalies 50 "$S"
expect_status "--train-anomalies too many exits 2" 2
expect_grep "it says how many anomalies there are" "category building_block has 16 anomalies in test" "$T/err"
run "$SPLIT" --folds 3 --fold 3 "$S"
expect_status "--fold out of range exits 2" 2
expect_grep "it names the folds" "folds are numbered 0..2" "$T/err"
run "$SPLIT" --folds 3 "$S"
expect_status "--folds without --fold exits 2" 2
run "$SPLIT" --stratify size --train-anomalies 1 "$S"
expect_status "--stratify other than defect exits 2" 2
run "$SPLIT" --stratify defect "$S"
expect_status "--stratify alone exits 2" 2
run "$SPLIT" --format xml "$S"
expect_status "unknown format exits 2" 2
expect_grep "it lists the formats" "jsonl, visa-csv, tabular-csv, uniad, meta-json" "$T/err"
run "$SPLIT" --shots 1,x "$S"
expect_status "bad --shots list exits 2" 2
run "$SPLIT" --shots 2,2 "$S"
expect_status "repeated K exits 2" 2
run "$SPLIT" --shots 1,2 --format visa-csv "$S"
expect_status "several K in a CSV on stdout exits 2" 2
run "$SPLIT" --seed 4294967296 "$S"
expect_status "--seed beyond 32 bits exits 2" 2
run "$SPLIT" --by node "$S"
expect_status "--by without = exits 2" 2
printf 'object,split,label,image,mask\nchain_buckle,dev,normal,chain_buckle/train/good/000.png,\n' >"$T/bad.csv"
run "$SPLIT" --split-csv "$T/bad.csv" "$S"
expect_status "a bad split file is fatal" 3
expect_grep "it names the line" "bad.csv:2: split is \"dev\", expected train, test or val" "$T/err"
run "$SPLIT" --nodes "$T/missing.csv" "$S"
expect_status "a missing node file is fatal" 3
expect_grep "it names the file" "missing.csv: No such file" "$T/err"
run "$SPLIT" -o "$T/no/such/dir/x.jsonl" "$S"
expect_status "unwritable output exits 3" 3

## Output formats
run "$SPLIT" --format tabular-csv --val 2 "$S"
expect_grep "tabular-csv header" '^image_path,label,label_index,split,mask_path$' "$T/out"
expect_eq "tabular-csv rows" "$(($(wc -l <"$T/out") - 1))" "$n_images"
expect_grep "tabular-csv: normal val is normal_test" '^[a-z_]*/train/good/[0-9]*\.png,normal_test,0,val,$' "$T/out"
expect_grep "tabular-csv: anomaly row" '^[a-z_]*/test/anomaly/[0-9]*\.png,abnormal,1,test,[a-z_]*/ground_truth/anomaly/[0-9]*_mask\.png$' "$T/out"
run "$SPLIT" --format tabular-csv --train-anomalies 1 "$S"
expect_status "anomalies in train cannot be tabular-csv (usage error)" 2
expect_grep "it says why" "rejects anomalies in train" "$T/err"
mkdir -p "$T/uniad"
run "$SPLIT" --format uniad --shots 4 -o "$T/uniad/" "$S"
expect_status "uniad with -o DIR/ exits 0" 0
expect_eq "uniad: train.json and test.json" "$(cd "$T/uniad" && ls | tr '\n' ' ')" "test.json train.json "
expect_eq "uniad: 40 training lines" "$(wc -l <"$T/uniad/train.json")" 40
expect_grep "uniad anomaly line" '^\{"filename":"[a-z_]*/test/anomaly/[0-9]*.png","label":1,"label_name":"defective","maskname":"[^"]*_mask.png","clsname":"[a-z_]*"\}$' "$T/uniad/test.json"
expect_no_grep "uniad normal lines have no maskname" '"label":0.*maskname' "$T/uniad/test.json"
run "$SPLIT" --format uniad --val 2 -o "$T/uniad/m" "$S"
check "uniad with a prefix: m-train, m-val, m-test" test -s "$T/uniad/m-train.json" -a -s "$T/uniad/m-val.json" -a -s "$T/uniad/m-test.json"
run "$SPLIT" --format uniad "$S"
expect_status "uniad on stdout with two splits exits 2" 2
expect_grep "it says to use -o" "give -o PREFIX" "$T/err"
run "$SPLIT" --format meta-json --val 2 "$S"
$PY - "$T/out" "$n_images" >"$T/py" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
n = sum(len(v) for s in m.values() for v in s.values())
keys = sorted(m)
bad = [i for s in m.values() for v in s.values() for i in v
       if (i["anomaly"] == 1) != (i["mask_path"] != "")]
print(keys, n == int(sys.argv[2]), len(m["val"]["chain_buckle"]), len(bad))
EOF
expect_eq "meta-json: train/test/val, every image, masks only on anomalies" "$(cat "$T/py")" "['test', 'train', 'val'] True 2 0"

## --summary
run "$SPLIT" --summary --shots 2 --categories chain_buckle "$S"
expect_grep "summary header" '^mirad-split: 2-shot split \(seed 0\)$' "$T/err"
expect_grep "summary line" '^chain_buckle +train +2 +0$' "$T/err"
expect_grep "summary total" '^total +test +8 +14$' "$T/err"

## VisA: the raw tree with each real split file.  Every run below takes
## --no-sizes, so no image is opened: the tree is the files that
## `mirad-gen-sample --visa-csv 1cls.csv` writes (the same paths, the split
## files under split_csv/, an empty nodes.csv), all empty, which lists the
## same manifest and spares 10 821 image encodings.
$PY - "$DATA/visa_split_csv" "$T/visa" <<'EOF'
import csv, os, shutil, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out + "/split_csv")
for f in ("1cls.csv", "2cls_fewshot.csv", "2cls_highshot.csv"):
    shutil.copy(os.path.join(src, f), os.path.join(out, "split_csv", f))
with open(os.path.join(out, "nodes.csv"), "w") as f:
    f.write("image,node\n")
for r in csv.DictReader(open(os.path.join(src, "1cls.csv"), newline="")):
    for p in (r["image"], r["mask"]):
        if p:
            os.makedirs(os.path.dirname(os.path.join(out, p)), exist_ok=True)
            open(os.path.join(out, p), "w").close()
EOF
# object train-normal train-anomaly test-normal test-anomaly
cat >"$T/1cls.want" <<'EOF'
candle 900 0 100 100
capsules 542 0 60 100
cashew 450 0 50 100
chewinggum 453 0 50 100
fryum 450 0 50 100
macaroni1 900 0 100 100
macaroni2 900 0 100 100
pcb1 904 0 100 100
pcb2 901 0 100 100
pcb3 905 0 101 100
pcb4 904 0 101 100
pipe_fryum 450 0 50 100
EOF
cat >"$T/2cls_fewshot.want" <<'EOF'
candle 200 20 800 80
capsules 120 20 482 80
cashew 100 20 400 80
chewinggum 101 20 402 80
fryum 100 20 400 80
macaroni1 200 20 800 80
macaroni2 200 20 800 80
pcb1 201 20 803 80
pcb2 200 20 801 80
pcb3 201 20 805 80
pcb4 201 20 804 80
pipe_fryum 100 20 400 80
EOF
cat >"$T/2cls_highshot.want" <<'EOF'
candle 600 60 400 40
capsules 361 60 241 40
cashew 300 60 200 40
chewinggum 302 60 201 40
fryum 300 60 200 40
macaroni1 600 60 400 40
macaroni2 600 60 400 40
pcb1 602 60 402 40
pcb2 601 60 400 40
pcb3 604 60 402 40
pcb4 603 60 402 40
pipe_fryum 300 60 200 40
EOF
for f in 1cls 2cls_fewshot 2cls_highshot; do
	run "$SPLIT" --no-sizes --summary --split-csv "$T/visa/split_csv/$f.csv" "$T/visa"
	expect_status "VisA $f exits 0" 0
	awk '$2 == "train" { tn[$1] = $3; ta[$1] = $4 } $2 == "test" { sn[$1] = $3; sa[$1] = $4 }
	     END { for (c in tn) if (c != "total") print c, tn[c], ta[c], sn[c], sa[c] }' "$T/err" | sort >"$T/$f.got"
	expect_same "VisA $f reproduces the per-class counts of the split file" "$T/$f.want" "$T/$f.got"
done
run "$SPLIT" --no-sizes --format visa-csv --split-csv "$T/visa/split_csv/1cls.csv" "$T/visa"
expect_same "--format visa-csv gives back 1cls.csv byte for byte" "$T/out" "$DATA/visa_split_csv/1cls.csv"
run "$SPLIT" --no-sizes --format visa-csv --split-csv "$T/visa/split_csv/2cls_fewshot.csv" "$T/visa"
expect_same "and 2cls_fewshot.csv" "$T/out" "$DATA/visa_split_csv/2cls_fewshot.csv"
# A manifest without a split file, then the split file applied to it.
run "$SPLIT" --no-sizes "$T/visa"
cp "$T/out" "$T/visa.jsonl"
run_in "$T/visa.jsonl" "$SPLIT" --format visa-csv --split-csv "$T/visa/split_csv/2cls_highshot.csv" -
expect_same "--split-csv on a manifest from stdin" "$T/out" "$DATA/visa_split_csv/2cls_highshot.csv"
# VisA's fewshot protocol made with --train-anomalies: 20 per class in train.
run "$SPLIT" --no-sizes --train-anomalies 20 --summary "$T/visa"
expect_grep "--train-anomalies 20 on VisA" '^total +train +8659 +240$' "$T/err"

done_testing
