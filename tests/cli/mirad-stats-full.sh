#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-stats beyond the counts: imaging heterogeneity and its
# flags, defect geometry, grouping by node, partial/merge, thread
# independence, charts and the mosaic.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python PIL

STATS=$BIN/mirad-stats
S=$T/sample
"$GEN" -o "$S" --scale 0.05 --seed 7 >/dev/null 2>"$T/generr" ||
	{ echo "Bail out! generator failed"; cat "$T/generr"; exit 1; }

# --- the default stays the counts table --------------------------------
run "$STATS" "$S"
expect_status "counts only: exit 0" 0
expect_no_grep "counts only: no imaging table" "Imaging|Sharpness" "$T/out"
expect_eq "counts only: header, rule, 10 categories, total, footnote" "$(wc -l <"$T/out")" 15

# --- imaging: the flags of the paper ------------------------------------
run "$STATS" --imaging --format json "$S"
expect_status "--imaging json: exit 0" 0
cp "$T/out" "$T/imaging.json"
"$PY" - "$T/imaging.json" "$DATA/mirad_overview.json" >"$T/flags" 2>&1 <<'EOF'
import json, sys
got = {g["category"]: g for g in json.load(open(sys.argv[1]))["imaging"]["groups"]}
paper = {c["category"]: c for c in json.load(open(sys.argv[2]))["categories"]}
bad = []
for name, row in paper.items():
    for flag in ("DI", "DB", "DR", "DV"):
        if got[name]["flags"][flag] != row[flag]:
            bad.append("%s %s: got %s, paper %s" % (name, flag, got[name]["flags"][flag], row[flag]))
print("\n".join(bad) if bad else "match")
EOF
expect_eq "flags DI/DB/DR/DV equal the paper's table on the sample" "$(cat "$T/flags")" "match"
"$PY" - "$T/imaging.json" >"$T/facts" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
g = {x["category"]: x for x in d["imaging"]["groups"]}
# The generator's six nodes have six sizes; DB-free categories keep the
# near-black background of node 1 (12,12,12, scaled by the node gain).
print(g["magnetic_block"]["distinct_sizes"], len(g["magnetic_block"]["backgrounds"]),
      g["magnetic_block"]["backgrounds"][0]["colour"],
      len(g["chain_buckle"]["backgrounds"]) > 1, d["imaging"]["thresholds"]["DI_illumination_ratio"],
      sum(x["images"] for x in g.values()) == sum(d["totals"][k] for k in ("train", "test_normal", "test_abnormal")))
EOF
expect_eq "sizes, background colours, thresholds and image count" "$(cat "$T/facts")" "6 1 #0c0c0c True 1.25 True"

run "$STATS" --imaging "$S"
expect_grep "md: imaging table heading" "^\| Category \| Images \| Sizes .* \| DV \| DI \| DR \| DB \|$" "$T/out"
expect_grep "md: magnetic block has DV and DR only" "^\| magnetic_block \|.*\| ✓ \|   \| ✓ \|   \|$" "$T/out"
run "$STATS" --imaging --format csv "$S"
expect_grep "csv: one header, a table column, then the imaging columns" "^table,category,train,test_normal,test_abnormal,defect_types,images,distinct_sizes,size_min,size_max,luma_linear_mean" "$T/out"
expect_eq "csv: only the header names the columns" "$(grep -c category "$T/out")" 1
expect_grep "csv: geometric block flags 1,1,1,0" "^imaging,geometric_block,,,,,.*,1,1,1,0$" "$T/out"
run "$STATS" --imaging --format tex "$S"
expect_eq "tex: two tabulars" "$(grep -c 'begin{tabular' "$T/out")" 2
expect_grep "tex: flags as checkmarks" "^Chain buckle & .*\\\\checkmark & \\\\checkmark & \\\\checkmark & \\\\checkmark" "$T/out"

# --- geometry ---------------------------------------------------------
run "$STATS" --geometry --format json "$S"
expect_status "--geometry: exit 0" 0
"$PY" - "$T/out" >"$T/geo" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
masks = sum(g["masks"] for g in d["geometry"]["groups"])
abn = d["totals"]["test_abnormal"]
one = all(g["regions_per_mask"]["min"] >= 1 and g["empty_masks"] == 0 for g in d["geometry"]["groups"])
hist = all(sum(g["area_histogram"]) == g["masks"] for g in d["geometry"]["groups"])
print(masks == abn, one, hist, "imaging" in d)
EOF
expect_eq "one mask per anomaly, none empty, histogram sums, no imaging" "$(cat "$T/geo")" "True True True False"

# A hand-made MVTec-style category with known masks: a disk of radius 10
# (349 px as PIL draws it) and two separate single pixels (tiny at 256x256 in 1024x1024).
"$PY" - "$T/known" <<'EOF'
import os, sys
from PIL import Image, ImageDraw
root = sys.argv[1]
for d in ("toy/train/good", "toy/test/good", "toy/test/hole", "toy/ground_truth/hole"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
Image.new("RGB", (64, 64), (10, 10, 10)).save(root + "/toy/train/good/000.png")
Image.new("RGB", (64, 64), (10, 10, 10)).save(root + "/toy/test/good/000.png")
Image.new("RGB", (1024, 1024), (10, 10, 10)).save(root + "/toy/test/hole/000.png")
Image.new("RGB", (1024, 1024), (10, 10, 10)).save(root + "/toy/test/hole/001.png")
m = Image.new("L", (1024, 1024), 0)
ImageDraw.Draw(m).ellipse((90, 90, 110, 110), fill=255)
m.save(root + "/toy/ground_truth/hole/000_mask.png")
m = Image.new("L", (1024, 1024), 0)
m.putpixel((5, 5), 255); m.putpixel((500, 700), 255)
m.save(root + "/toy/ground_truth/hole/001_mask.png")
EOF
run "$STATS" --geometry --format csv "$T/known"
"$PY" -c '
import sys
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1])]
head = rows[0]
toy = [r for r in rows if r[:2] == ["geometry", "toy"]][0]
want = [2, 0, 0, 2 / 1048576, 2 / 1048576, 349 / 1048576, 1.5, 1, 2 / 3]
got = toy[head.index("masks"):]
print(len(got) == len(want) and all(float(g) == w for g, w in zip(got, want)))
' "$T/out" >"$T/known.csv" 2>&1
expect_eq "known masks: 2 masks, 1.5 regions per mask, 2 of 3 tiny (exact values)" "$(cat "$T/known.csv")" "True"
run "$STATS" --imaging --format json "$T/known"
"$PY" -c '
import json, sys
g = json.load(open(sys.argv[1]))["imaging"]["groups"][0]
print(g["flags"]["DR"], g["distinct_sizes"], g["sharpness"]["max"], g["noise"]["max"], g["backgrounds"])
' "$T/out" >"$T/known.txt" 2>&1
expect_eq "flat images: two sizes set DR, zero sharpness and noise, one background" \
	"$(cat "$T/known.txt")" "True 2 0 0 [{'colour': '#0a0a0a', 'images': 4}]"

# --- grouping by node ---------------------------------------------------
run "$STATS" --imaging --format csv --by node "$S"
expect_status "--by node: exit 0" 0
expect_grep "--by node: heading" "^table,node,train,test_normal,test_abnormal,defect_types,images,distinct_sizes," "$T/out"
expect_eq "--by node: six nodes, one size each (DR never set)" \
	"$("$PY" -c '
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], newline="")) if r["table"] == "imaging"]
print(len(rows), sum(r["distinct_sizes"] != "1" or r["DR"] != "0" for r in rows))
' "$T/out")" "6 0"
cp "$T/out" "$T/bynode.csv"
mv "$S/nodes.csv" "$T/nodes.csv"
run "$STATS" --imaging --format csv --by node "$S"
expect_grep "--by node without nodes.csv: one unknown group" "^counts,unknown," "$T/out"
run "$STATS" --imaging --format csv --by node --nodes "$T/nodes.csv" "$S"
expect_same "--nodes FILE gives the same table" "$T/out" "$T/bynode.csv"
mv "$T/nodes.csv" "$S/nodes.csv"
# A manifest whose records carry a node field (numbers).
"$PY" - "$S" "$S/nodes.csv" >"$T/nodes.jsonl" <<'EOF'
import csv, json, sys
root = sys.argv[1]
for image, node in csv.reader(open(sys.argv[2])):
    if node == "node":
        continue
    cat, split, kind = image.split("/")[:3]
    anomaly = kind == "anomaly"
    rec = {"category": cat, "split": split, "label": "anomaly" if anomaly else "normal",
           "defect": kind, "image": image, "root": root, "node": int(node)}
    if anomaly:
        rec["mask"] = image.replace("test/anomaly", "ground_truth/anomaly").replace(".png", "_mask.png")
    print(json.dumps(rec))
EOF
run "$STATS" --imaging --format csv --by node "$T/nodes.jsonl"
expect_same "node field of manifest records gives the same table" "$T/out" "$T/bynode.csv"

run "$STATS" --by split --format csv "$S"
expect_eq "--by split: test and train rows, then the total" "$(cut -d, -f1 "$T/out" | tr '\n' ' ')" "split test train total "

# --- partial + merge, shards, threads -----------------------------------
run "$STATS" --all --format json "$S"
cp "$T/out" "$T/single.json"
for i in 0 1 2; do
	"$STATS" --partial --shard "$i/3" "$S" >"$T/part$i.json" 2>"$T/err"
done
run "$STATS" --merge --all --format json "$T/part2.json" "$T/part0.json" "$T/part1.json"
expect_status "--merge: exit 0" 0
expect_same "partial x3 + merge = single run (JSON, byte-identical)" "$T/out" "$T/single.json"
run "$STATS" --merge --all "$T/part1.json" "$T/part0.json" "$T/part2.json"
"$STATS" --all "$S" >"$T/single.md"
expect_same "partial + merge = single run (Markdown)" "$T/out" "$T/single.md"
run "$STATS" --merge "$T/part0.json"
expect_status "one shard alone does not merge" 3
expect_grep "... and the missing shards are named" "missing shard 1/3" "$T/err"
VIPS_CONCURRENCY=1 "$STATS" --all -j 1 --format json "$S" >"$T/t1.json"
VIPS_CONCURRENCY=2 "$STATS" --all -j 2 --format json "$S" >"$T/t2.json"
expect_same "VIPS_CONCURRENCY=1 -j1 equals VIPS_CONCURRENCY=2 -j2" "$T/t1.json" "$T/t2.json"
expect_same "thread runs equal the default run" "$T/t1.json" "$T/single.json"

# --- charts and mosaic --------------------------------------------------
run "$STATS" --plots "$T/plots" --plot-size 320x200 "$S"
expect_status "--plots: exit 0" 0
expect_eq "--plots prints only the counts" "$(wc -l <"$T/out")" 15
"$PY" - "$T/plots" >"$T/png" 2>&1 <<'EOF'
import sys
from PIL import Image
out = []
for name in ("counts", "defect_area", "brightness", "resolution"):
    im = Image.open("%s/%s.png" % (sys.argv[1], name))
    im.load()
    out.append("%s:%s:%dx%d:%d" % (name, im.format, im.size[0], im.size[1],
                                   len(im.getcolors(100000) or [])))
print(" ".join(out))
EOF
expect_grep "four PNG charts of 320x200" "^counts:PNG:320x200:[0-9]+ defect_area:PNG:320x200:[0-9]+ brightness:PNG:320x200:[0-9]+ resolution:PNG:320x200:[0-9]+$" "$T/png"
expect_no_grep "charts are not blank" ":[01]( |$)" "$T/png"

run "$STATS" --mosaic "$T/m.png" --mosaic-per 3 --mosaic-tile 48 --mosaic-masks "$S"
expect_status "--mosaic: exit 0" 0
"$PY" - "$T/m.png" 3 48 >"$T/mosaic" 2>&1 <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
per, tile = int(sys.argv[2]), int(sys.argv[3])
rows = im.size[1] // tile
filled = 0
for r in range(rows):
    for c in range(per):
        x0, y0 = 160 + c * tile, r * tile
        cell = im.crop((x0 + 2, y0 + 2, x0 + tile - 2, y0 + tile - 2))
        if any(p != (32, 32, 32) for p in cell.getdata()):
            filled += 1
print("%dx%d rows=%d filled=%d" % (im.size[0], im.size[1], rows, filled))
EOF
expect_eq "mosaic: 160+3x48 wide, 10 rows, 3 images per category" "$(cat "$T/mosaic")" "304x480 rows=10 filled=30"
run "$STATS" --mosaic "$T/m2.png" --mosaic-per 2 --mosaic-tile 32 --by node "$S"
"$PY" -c 'import sys; from PIL import Image; print("%dx%d" % Image.open(sys.argv[1]).size)' "$T/m2.png" >"$T/size"
expect_eq "mosaic by node: six rows" "$(cat "$T/size")" "224x192"

# --- JPEG quality -------------------------------------------------------
"$GEN" -o "$T/jpg" --scale 0.02 --format jpg --categories chain_buckle >/dev/null 2>&1
run "$STATS" --imaging --format json "$T/jpg"
expect_grep "JPEG quality estimate of the generator's q90" '"jpeg_quality_min":[[:space:]]*90,' "$T/out"

# --- errors -------------------------------------------------------------
run "$STATS" --by colour "$S"
expect_status "--by colour: usage error" 2
expect_grep "--by error lists the keys" "unknown grouping 'colour' \(category, node, split, defect, variant\)" "$T/err"
run "$STATS" --plot-size 10x10 --plots "$T/p" "$S"
expect_status "--plot-size too small: usage error" 2
run "$STATS" --merge
expect_status "--merge without files: usage error" 2
run "$STATS" --shard 3/3 "$S"
expect_status "--shard 3/3: usage error" 2
run "$STATS" --mosaic-per 0 "$S"
expect_status "--mosaic-per 0: usage error" 2
run "$STATS" --partial --plots "$T/p" "$S"
expect_status "--partial with --plots: usage error" 2
echo '{"categories": []}' >"$T/notpartial.json"
run "$STATS" --merge "$T/notpartial.json"
expect_status "--merge of a non-partial file: fatal" 3
expect_grep "--merge names the bad file" "notpartial.json: not a mirad-stats partial file" "$T/err"
cp -R "$S" "$T/broken"
f=$T/broken/chain_buckle/train/good/000.png
head -c 60 "$f" >"$f.tmp" && mv "$f.tmp" "$f"
run "$STATS" --imaging "$T/broken"
expect_status "a damaged image: exit 1" 1
expect_grep "the damaged image is named" "chain_buckle/train/good/000.png: " "$T/err"
expect_grep "the table is still printed" "^\| chain_buckle \| [0-9]+ \|" "$T/out"
"$STATS" --partial "$T/broken" >"$T/bp.json" 2>/dev/null
run "$STATS" --merge --imaging "$T/bp.json"
expect_status "merge of a partial with a damaged image: exit 1" 1
expect_grep "merge names the damaged image" "chain_buckle/train/good/000.png: " "$T/err"

done_testing
