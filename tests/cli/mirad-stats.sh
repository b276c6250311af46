#!/bin/sh
# SPDX-License-Identifier: MIT
# Black-box tests of mirad-stats: the counts table of the MIRAD paper.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python
ST=$BIN/mirad-stats
S=$BIN/mirad-split

common_cli_checks mirad-stats

# The paper's table, from the data file (the source of truth).
"$PY" - "$DATA/mirad_overview.json" >"$T/paper.csv" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("category,train,test_normal,test_abnormal,defect_types")
for c in d["categories"]:
    print("%s,%d,%d,%d,%d" % (c["category"], c["train"], c["test_normal"], c["test_abnormal"], c["defect_types"]))
t = d["totals"]
print("total,%d,%d,%d,%d" % (t["train"], t["test_normal"], t["test_abnormal"], t["defect_types"]))
PYEOF
# In the MIRAD layout anomalies are pooled in test/anomaly: the tree holds
# no defect types, so the column is empty (unknown), not a count of 1.
sed -e '2,$s/,[0-9]*$/,/' "$T/paper.csv" >"$T/paper-pooled.csv"

# Full paper scale, MIRAD layout (4789 images, 1737 masks).
fixture full "$T/full"
run "$ST" --format csv "$T/full"
expect_status "full-scale sample: exit 0" 0
expect_same "full-scale MIRAD counts equal the paper's table" "$T/out" "$T/paper-pooled.csv"
expect_grep "totals 2398 / 654 / 1737" "^total,2398,654,1737," "$T/out"

# Full paper scale with one folder per defect type: 63 defect types.
fixture full-mvtec "$T/fullmv"
run "$ST" --format csv "$T/fullmv"
expect_same "full-scale per-defect tree equals the paper's table, defect types too" "$T/out" "$T/paper.csv"

# Pipe equivalence: the manifest carries everything the table needs.
for f in md csv json tex; do
	"$ST" --format $f "$T/full" >"$T/dir.$f"
	"$S" "$T/full" | "$ST" --format $f - >"$T/pipe.$f"
	expect_same "mirad-split DIR | mirad-stats - equals mirad-stats DIR ($f)" "$T/pipe.$f" "$T/dir.$f"
done
"$S" "$T/full" | "$ST" >"$T/pipe.implicit"
expect_same "implicit stdin works too" "$T/pipe.implicit" "$T/dir.md"

# Formats.
expect_grep "md: header row" '^\| Category \| Train \| Test normal \| Test abnormal \| Defect types \|$' "$T/dir.md"
expect_grep "md: a category row" '^\| building_block \| 262 \| 57 \| 158 \| – \|$' "$T/dir.md"
expect_grep "md: total row" '^\| \*\*Total\*\* \| 2398 \| 654 \| 1737 \| – \|$' "$T/dir.md"
expect_eq "md: 10 categories + header + rule + total + blank + footnote" "$(wc -l <"$T/dir.md")" 15
run "$PY" -c "import json,sys; d=json.load(open('$T/dir.json')); print(len(d['categories']), d['totals']['train'], d['totals']['test_normal'], d['totals']['test_abnormal'])"
expect_eq "json: parses, 10 categories and the totals" "$(cat "$T/out")" "10 2398 654 1737"
expect_grep "tex: a tabular" '^\\begin\{tabular\}\{lrrrr\}$' "$T/dir.tex"
expect_grep "tex: the paper's columns" '^Category & Train & Test normal & Test abnormal & Defect types\\textsuperscript\{a\} \\\\$' "$T/dir.tex"
expect_grep "tex: display names" '^Building block & 262 & 57 & 158 & -- \\\\$' "$T/dir.tex"
expect_grep "tex: total row" '^\\textbf\{Total\} & 2398 & 654 & 1737 & -- \\\\$' "$T/dir.tex"

# MVTec and VisA trees.
"$GEN" -o "$T/visa" --scale 0.04 --layout visa
run "$ST" --format csv "$T/visa"
expect_status "visa tree: exit 0" 0
"$PY" - "$T/visa/split_csv/1cls.csv" >"$T/visa.expect" <<'PYEOF'
import csv, sys, collections
c = collections.OrderedDict()
for r in csv.DictReader(open(sys.argv[1], newline="")):
    k = c.setdefault(r["object"], [0, 0, 0])
    k[0 if r["split"] == "train" else (1 if r["label"] == "normal" else 2)] += 1
for o in sorted(c):
    print(o, *c[o])
PYEOF
sed -n '2,11p' "$T/out" | cut -d, -f1-4 | tr , ' ' >"$T/visa.got"
expect_same "visa counts equal the split file" "$T/visa.got" "$T/visa.expect"

# Names with every format's specials: each format escapes them, and the
# machine formats give them back exactly.
fixture mvtec-small "$T/ms"
"$S" "$T/ms" >"$T/ms.jsonl"
NAMES="$PY $MIRAD_SRCDIR/tests/cli/hostile_names.py"
$NAMES manifest "$T/ms.jsonl" >"$T/hostile.jsonl"
for f in md csv json tex; do
	run "$ST" --format $f "$T/hostile.jsonl"
	expect_status "hostile names ($f): exit 0" 0
	expect_eq "hostile names are escaped in $f" "$($NAMES check $f "$T/out")" "ok"
done
run "$ST" --format csv "$T/hostile.jsonl"
expect_grep "csv: a name with a comma and a quote is quoted, the quote doubled" '^"x,y""z",' "$T/out"

# -a in CSV: one table that Python's csv module reads as one rectangle.
run "$ST" --all --format csv "$T/hostile.jsonl"
expect_status "--all --format csv: exit 0" 0
expect_eq "--all csv with hostile names: every name given back" "$($NAMES check csv "$T/out")" "ok"
got=$("$PY" - "$T/out" "$MIRAD_SRCDIR/tests/cli" <<'PYEOF'
import csv, sys
sys.path.insert(0, sys.argv[2])
from hostile_names import NAMES
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
head = rows[0]
parts = sorted({r[0] for r in rows[1:]})
each = all(sorted(r[0] for r in rows if r[1] == n) == parts for n in NAMES)
print(len({len(r) for r in rows}), head[:2], len(head) == len(set(head)), parts,
      "train" in head and "images" in head and "masks" in head, each)
PYEOF
)
expect_eq "--all csv: one rectangular table, a table column naming counts, imaging and geometry, each name in each" "$got" \
	"1 ['table', 'category'] True ['counts', 'geometry', 'imaging'] True True"

# Errors.
run "$ST" --format xml "$T/full"
expect_status "unknown format is a usage error" 2
expect_grep "unknown format lists the choices" "md, csv, json, tex" "$T/err"
run "$ST" "$T/nothing-here"
expect_status "nonexistent input is fatal (3)" 3
expect_grep "nonexistent input is named" "nothing-here: No such file or directory" "$T/err"
"$S" "$T/visa" >"$T/v.jsonl"
{ echo 'garbage'; cat "$T/v.jsonl"; } >"$T/vbad.jsonl"
run "$ST" --format csv "$T/vbad.jsonl"
expect_status "a bad manifest line gives status 1" 1
expect_grep "bad line named" "vbad.jsonl:1: invalid JSON" "$T/err"
sed -n '2,11p' "$T/out" | cut -d, -f1-4 | tr , ' ' >"$T/visa.got2"
expect_same "the other lines are still counted" "$T/visa.got2" "$T/visa.expect"

done_testing
