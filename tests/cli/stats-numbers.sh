#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-stats: numbers a paper can print and charts people can read.
# Exact values in JSON/CSV and rounded ones for reading; the median
# definitions; defect types of pooled layouts and --defects; the DR
# threshold; the paper-shaped LaTeX table; --categories; --by node from a
# manifest without nodes; labelled charts.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

ST=$BIN/mirad-stats
SPLIT=$BIN/mirad-split

# A hand-made MVTec-style tree with known sizes and masks:
#   masks: 96x96 and 64x64 anomalies, defects of 84 px (12x7) and 37 px
#          (1x37): area fractions 84/9216 = 0.009114583... and 37/4096;
#   crops: crops of photos, 77x77 and 78x77 (one resolution);
#   cams:  two cameras, 100x80 and 128x96.
"$PY" - "$T/known" <<'EOF'
import os, sys
from PIL import Image, ImageDraw
root = sys.argv[1]
def img(rel, w, h, grey=40):
    os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
    im = Image.new("RGB", (w, h), (10, 10, 10))
    ImageDraw.Draw(im).rectangle((w // 4, h // 4, w // 2, h // 2), fill=(grey, 150, 90))
    im.save(os.path.join(root, rel))
def mask(rel, w, h, box):
    os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).rectangle(box, fill=255)
    m.save(os.path.join(root, rel))
img("masks/train/good/000.png", 96, 96)
img("masks/test/good/000.png", 96, 96)
img("masks/test/hole/000.png", 96, 96)
img("masks/test/hole/001.png", 64, 64)
mask("masks/ground_truth/hole/000_mask.png", 96, 96, (10, 10, 21, 16))
mask("masks/ground_truth/hole/001_mask.png", 64, 64, (5, 5, 5, 41))
img("crops/train/good/000.png", 77, 77)
img("crops/train/good/001.png", 78, 77)
img("crops/test/good/000.png", 77, 77)
img("cams/train/good/000.png", 100, 80)
img("cams/train/good/001.png", 128, 96)
img("cams/test/good/000.png", 100, 80)
EOF

# --- exact numbers in JSON and CSV, rounded ones in Markdown -------------
run "$ST" --geometry --format json "$T/known"
expect_status "known tree, --geometry json: exit 0" 0
cp "$T/out" "$T/geo.json"
"$PY" - "$T/geo.json" >"$T/exact" 2>&1 <<'EOF'
import json, sys
import numpy as np
g = {x["category"]: x for x in json.load(open(sys.argv[1]))["geometry"]["groups"]}["masks"]
a = g["area_fraction"]
areas = [37 / 4096, 84 / 9216]
print(a["max"] == 84 / 9216, a["min"] == 37 / 4096,
      a["median"] == 37 / 4096, a["median_numpy"] == float(np.median(areas)))
EOF
expect_eq "json: area fractions exact (84/9216, not 0.00911); lower median and numpy's" \
	"$(cat "$T/exact")" "True True True True"
run "$ST" --geometry --format csv "$T/known"
"$PY" - "$T/out" >"$T/exact.csv" 2>&1 <<'EOF'
import sys
import csv
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
row = [r for r in rows if r["table"] == "geometry" and r["category"] == "masks"][0]
print(float(row["area_max"]) == 84 / 9216,
      float(row["area_min"]) == 37 / 4096)
EOF
expect_eq "csv: area fractions read back exactly" "$(cat "$T/exact.csv")" "True True"
run "$ST" --geometry "$T/known"
expect_grep "md: rounded to 4 significant digits for reading" \
	'^\| masks \| 2 \| 0 \| 0 \| 0\.009033 \| 0\.009033 \| 0\.009115 \|' "$T/out"
run "$ST" --imaging --format json "$T/known"
"$PY" - "$T/out" >"$T/defs" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))["imaging"]
print(sorted(d["definitions"]) == sorted(["median", "median_numpy", "p10, p90", "std", "size_spread"]),
      "numpy" in d["definitions"]["median_numpy"],
      all("median_numpy" in g["contrast"] for g in d["groups"]))
EOF
expect_eq "json: the median and percentile definitions, numpy's median offered" \
	"$(cat "$T/defs")" "True True True"

# --- DR: a relative threshold, not "two sizes" ---------------------------
"$PY" - "$T/out" >"$T/dr" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))["imaging"]
g = {x["category"]: x for x in d["groups"]}
print(g["crops"]["distinct_sizes"], g["crops"]["flags"]["DR"], round(g["crops"]["size_spread"], 6),
      g["cams"]["flags"]["DR"], d["thresholds"]["DR_size_spread"])
EOF
expect_eq "DR: 77x77 and 78x77 are one resolution, 100x80 and 128x96 two" \
	"$(cat "$T/dr")" "2 False 0.012987 True 0.1"

# --- the paper's LaTeX table --------------------------------------------
run "$ST" --imaging --format tex "$T/known"
expect_status "tex: exit 0" 0
expect_grep "tex: first tabular in the paper's shape: counts, then DV DI DR DB" \
	'^Category & Train & Test normal & Test abnormal & Defect types & DV & DI & DR & DB \\\\$' "$T/out"
expect_grep "tex: check marks in the counts table" \
	'^Cams & 2 & 1 & 0 & 0 &  &  & \\checkmark &  \\\\$' "$T/out"
expect_grep "tex: the measures in a page-wide tabular" \
	'^\\begin\{tabular\*\}\{\\textwidth\}\{@\{\\extracolsep\{\\fill\}\}lrrllrrrrrr\}$' "$T/out"
expect_no_grep "tex: no hex colour lists" '#[0-9a-f]{6}' "$T/out"
expect_eq "tex: two tabulars" "$(grep -c 'begin{tabular' "$T/out")" 2

# --- defect types: unknown for pooled folders, --defects counts them -----
"$GEN" -o "$T/mirad" --scale 0.02 --seed 5 >/dev/null 2>"$T/generr" ||
	{ echo "Bail out! generator failed"; cat "$T/generr"; exit 1; }
run "$ST" "$T/mirad"
expect_status "pooled MIRAD tree: exit 0" 0
expect_grep "md: a pooled category has an unknown (–) defect-type count" \
	'^\| building_block \| [0-9]+ \| [0-9]+ \| [0-9]+ \| – \|$' "$T/out"
expect_grep "md: and the total too" '^\| \*\*Total\*\* \| .* \| – \|$' "$T/out"
expect_grep "md: a footnote says why and how to count them" '^– Defect types: .*--defects FILE' "$T/out"
expect_no_grep "md: never a count of 1 for pooled folders" '\| 1 \|$' "$T/out"
run "$ST" --format json "$T/mirad"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["totals"]["defect_types"], set(c["defect_types"] for c in d["categories"]))' \
	"$T/out" >"$T/null" 2>&1
expect_eq "json: null for unknown defect types" "$(cat "$T/null")" "None {None}"

# An image,defect CSV: the anomalies of each category cycle through three
# defects, whose names repeat across categories.
"$SPLIT" "$T/mirad" >"$T/mirad.jsonl"
"$PY" - "$T/mirad.jsonl" "$T/defects.csv" "$T/mirad/nodes.csv" >"$T/defects.expect" <<'EOF'
import collections, csv, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
names = ["crack", "scratch", "dent"]
seen = collections.Counter()
kinds = collections.defaultdict(set)
node = {r["image"]: r["node"] for r in csv.DictReader(open(sys.argv[3]))}
per_node = collections.defaultdict(set)
with open(sys.argv[2], "w") as f:
    f.write("image,defect\n")
    for r in recs:
        if r["label"] != "anomaly":
            continue
        d = names[seen[r["category"]] % 3]
        seen[r["category"]] += 1
        kinds[r["category"]].add(d)
        per_node[node[r["image"]]].add((r["category"], d))
        f.write("%s,%s\n" % (r["image"], d))
    f.write("not/in/the/dataset.png,crack\n")
total = sum(len(v) for v in kinds.values())
print(" ".join("%s=%d" % (c, len(kinds[c])) for c in sorted(kinds)), "total=%d" % total)
print("node_sum=%d" % sum(len(v) for v in per_node.values()), "node_total=%d" % total)
EOF
run "$ST" --format csv --defects "$T/defects.csv" "$T/mirad"
expect_status "--defects: exit 0" 0
expect_grep "--defects: a listed image that is not in the input is reported" \
	"defects.csv: 1 listed images are not in the input" "$T/err"
awk -F, 'NR > 1 && $1 != "total" { printf "%s%s=%s", sep, $1, $NF; sep = " " } $1 == "total" { printf " total=%s\n", $NF }' \
	"$T/out" >"$T/defects.got"
expect_eq "--defects: defect types counted per category, total their sum" \
	"$(cat "$T/defects.got")" "$(sed -n 1p "$T/defects.expect")"
run "$ST" --format csv --by node --defects "$T/defects.csv" "$T/mirad"
"$PY" - "$T/out" >"$T/bynode" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
nodes = [r for r in rows if r["node"] != "total"]
print("node_sum=%d" % sum(int(r["defect_types"]) for r in nodes),
      "node_total=%s" % [r for r in rows if r["node"] == "total"][0]["defect_types"])
EOF
expect_eq "--by node: the total counts distinct (category, defect) pairs, not the sum of overlapping rows" \
	"$(cat "$T/bynode")" "$(sed -n 2p "$T/defects.expect")"
run "$ST" --format csv --by defect --defects "$T/defects.csv" "$T/mirad"
expect_eq "--by defect: grouped by the defects of the CSV" \
	"$(cut -d, -f1 "$T/out" | tr '\n' ' ')" "defect crack dent good scratch total "
printf 'path,kind\nx,y\n' >"$T/bad-defects.csv"
run "$ST" --defects "$T/bad-defects.csv" "$T/mirad"
expect_status "--defects without an image,defect header: fatal" 3
expect_grep "--defects: the reason names the file" "bad-defects.csv: no header naming the columns image and defect" "$T/err"

# --- --categories ---------------------------------------------------------
run "$ST" --format csv --categories chain_buckle,rabbit_pendant "$T/mirad"
expect_status "--categories: exit 0" 0
expect_eq "--categories: only those rows" "$(cut -d, -f1 "$T/out" | tr '\n' ' ')" \
	"category chain_buckle rabbit_pendant total "
run_in "$T/mirad.jsonl" "$ST" --format csv --categories cams -
expect_status "--categories with an unknown name: usage error" 2
expect_grep "--categories: the unknown name and the available ones" \
	"unknown category 'cams' \(available: building_block, chain_buckle," "$T/err"

# --- --by node from a manifest --------------------------------------------
run_in "$T/mirad.jsonl" "$ST" --by node -
expect_status "split | stats --by node: exit 0" 0
expect_grep "split | stats --by node: a warning, not a silent 'unknown' group" \
	"images have no node .*grouped as 'unknown'" "$T/err"
"$SPLIT" --nodes "$T/mirad/nodes.csv" "$T/mirad" >"$T/nodes.jsonl"
run_in "$T/nodes.jsonl" "$ST" --by node --format csv -
expect_empty "split --nodes | stats --by node: no warning" "$T/err"
expect_eq "split --nodes | stats --by node: the six nodes" \
	"$(cut -d, -f1 "$T/out" | tr '\n' ' ')" "node 1 2 3 4 5 6 total "

# --- charts people can read -------------------------------------------------
run "$ST" --plots "$T/plots" "$T/mirad"
expect_status "--plots: exit 0" 0
# Read each chart as a person would: find the axes (the longest black
# lines), the tick marks outside them, and ink where the labels belong.
"$PY" - "$T/plots" >"$T/charts" 2>&1 <<'PYEOF'
import sys
from PIL import Image
def black(p): return p[0] == p[1] == p[2] == 0
def dark(p): return max(p) < 110
def ink(px, x0, y0, x1, y1):
    return any(dark(px[x, y]) for x in range(max(0, x0), x1) for y in range(max(0, y0), y1))
def runs(idx):
    out = []
    for i in idx:
        if out and i == out[-1][-1] + 1: out[-1].append(i)
        else: out.append([i])
    return [r[len(r) // 2] for r in out]
for name in ("counts", "defect_area", "brightness", "resolution"):
    im = Image.open("%s/%s.png" % (sys.argv[1], name)).convert("RGB")
    w, h = im.size
    px = im.load()
    ya = max(range(h), key=lambda y: sum(black(px[x, y]) for x in range(w)))
    xa = max(range(w), key=lambda x: sum(black(px[x, y]) for y in range(h)))
    xt = runs([x for x in range(w) if black(px[x, ya + 2]) and black(px[x, ya + 4])])
    yt = runs([y for y in range(h) if black(px[xa - 2, y]) and black(px[xa - 4, y])])
    xl = sum(ink(px, x - 12, ya + 7, x + 12, ya + 30) for x in xt)
    yl = sum(ink(px, xa - 60, y - 5, xa - 7, y + 6) for y in yt)
    title = ink(px, 0, 0, w, 18)
    xtitle = ink(px, xa, h - 22, w, h)
    ytitle = ink(px, 0, h // 4, 18, 3 * h // 4)
    line = "%s: xticks=%d labelled=%d yticks=%d labelled=%d title=%s axis-titles=%s,%s" % (
        name, len(xt), xl, len(yt), yl, title, xtitle, ytitle)
    if name == "brightness":
        ok = 0
        for x in xt:
            col = [y for y in range(ya) if px[x + 2, y] == (66, 114, 196)]
            whisk = [y for y in range(ya) if black(px[x, y])]
            if col and whisk and min(whisk) - 1 <= col[0] <= max(whisk) + 1:
                ok += 1
        line += " whiskers-on-bars=%d" % ok
    print(line)
PYEOF
expect_grep "counts.png: a tick and a label per category, y ticks labelled, title and axis titles" \
	'^counts: xticks=10 labelled=10 yticks=([3-9]|1[0-9]) labelled=\1 title=True axis-titles=True,True$' "$T/charts"
expect_grep "defect_area.png: seven labelled bins on the x axis" \
	'^defect_area: xticks=7 labelled=7 yticks=([3-9]|1[0-9]) labelled=\1 title=True axis-titles=True,True$' "$T/charts"
expect_grep "brightness.png: labelled axes, and every whisker spans its bar's top" \
	'^brightness: xticks=10 labelled=10 yticks=6 labelled=6 title=True axis-titles=True,True whiskers-on-bars=10$' "$T/charts"
expect_grep "resolution.png: ticks and labels along both axes, not just 0 and the maxima" \
	'^resolution: xticks=([3-9]|1[0-9]) labelled=\1 yticks=([3-9]|1[0-9]) labelled=\2 title=True axis-titles=True,True$' "$T/charts"

done_testing
