# SPDX-License-Identifier: MIT
# mirad-eval: numbers a paper can print.  One map-size rule for every image
# (normal ones included), float64 TIFF maps, --ader-pooling, one rule for
# undefined metrics (n/a, left out of the mean, counted in a footnote) and
# -q silencing the warnings; checked against scikit-learn / NumPy
# (tests/cli/eval_reference.py).
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
EVAL=$BIN/mirad-eval
REF="$PY $MIRAD_SRCDIR/tests/cli/eval_reference.py"

$GEN -o "$T/ds" --scale 0.02 --layout mvtec --seed 3 >/dev/null 2>&1
check "sample dataset generated" test -d "$T/ds/rabbit_pendant/ground_truth"
$REF gen "$T/ds" "$T/m_float" float 7

# agree DESC REF.json TOOL.json: all metrics agree to 1e-9
agree() {
	if $REF cmp "$2" "$3" 1e-9 >"$T/cmp" 2>&1; then
		ok "$1 ($(tail -1 "$T/cmp"))"
	else
		not_ok "$1"; diag "$T/cmp"
	fi
}

# ---- one map size for every image ----
# Maps at half the image size: anomalous and normal maps alike are brought
# to the image's size, so normal pixels weigh what they weigh in the
# dataset (keeping normal maps small under-weights them 4x).
cp -r "$T/m_float" "$T/m_half"
$PY - "$T/m_half" <<'EOF'
import glob, sys
from PIL import Image
for p in glob.glob(sys.argv[1] + "/*/test/*/*.tiff"):
    im = Image.open(p)
    im.resize((im.width // 2, im.height // 2), Image.BILINEAR).save(p)
EOF
$REF ref "$T/ds" "$T/m_half" >"$T/ref_half.json"
run $EVAL --gt "$T/ds" --maps "$T/m_half" -F json
expect_status "half-size maps: exit 0" 0
cp "$T/out" "$T/tool_half.json"
agree "half-size maps: every map resized to its image's size agrees with sklearn/MVTec" \
	"$T/ref_half.json" "$T/tool_half.json"
$PY - "$T/tool_half.json" "$T/ds" >"$T/pixels" <<'EOF'
import glob, json, sys
from PIL import Image
tool = {c["category"]: c["pixels"] for c in json.load(open(sys.argv[1]))["categories"]}
want = {}
for p in glob.glob(sys.argv[2] + "/*/test/*/*.png"):
    w, h = Image.open(p).size
    cat = p.split("/")[-4]
    want[cat] = want.get(cat, 0) + w * h
print("same" if tool == want else "tool %s, images %s" % (tool, want))
EOF
expect_eq "pixels counted at the images' size, normal images included" "$(cat "$T/pixels")" same
expect_grep "the resize is noted once per category" "geometric_button: [0-9]+ maps resized \(bilinear\) to their image size" "$T/err"
run $EVAL --gt "$T/ds" --maps "$T/m_half" --strict --metrics i-auroc
expect_status "--strict refuses maps of another size (exit 3)" 3

# ---- float64 TIFF maps ----
$REF gen "$T/ds" "$T/m_f64" float64 7
$REF ref "$T/ds" "$T/m_f64" >"$T/ref_f64.json"
run $EVAL --gt "$T/ds" --maps "$T/m_f64" -F json
expect_status "float64 TIFF maps: exit 0" 0
cp "$T/out" "$T/tool_f64.json"
expect_no_grep "float64 TIFF maps are read (no libvips error)" "samples out of range|skipped" "$T/err"
expect_grep "the rounding to float32 is noted once" "float64 map rounded to float32" "$T/err"
check "... and only once" test "$(grep -c 'rounded to float32' "$T/err")" -eq 1
agree "float64 TIFF maps, rounded to float32, agree with sklearn/MVTec" \
	"$T/ref_f64.json" "$T/tool_f64.json"

# ---- --ader-pooling ----
run $EVAL --gt "$T/ds" --maps "$T/m_float" --ader-pooling 8
expect_status "--ader-pooling needs --compat=ader" 2
run $EVAL --gt "$T/ds" --maps "$T/m_float" --compat ader --ader-pooling 0
expect_status "--ader-pooling 0 is refused" 2
for k in none 21 16; do
	$REF ader "$T/ds" "$T/m_float" $k >"$T/aref_$k.json"
	run $EVAL --gt "$T/ds" --maps "$T/m_float" -F json --compat ader \
		--ader-pooling $k --metrics i-auroc,p-auroc,p-ap,p-f1max,aupro
	expect_status "--ader-pooling $k exits 0" 0
	cp "$T/out" "$T/ader_$k.json"
	agree "--compat ader --ader-pooling $k agrees with the ADer restatement" \
		"$T/aref_$k.json" "$T/ader_$k.json"
done
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F json --compat ader \
	--metrics i-auroc,p-auroc,p-ap,p-f1max,aupro
expect_same "the default pooling is 16x16" "$T/out" "$T/ader_16.json"
$PY - "$T/ader_none.json" "$T/ader_21.json" >"$T/differ" <<'EOF'
import json, sys
a, b = (json.load(open(p))["mean"]["i-auroc"] for p in sys.argv[1:3])
print("differ" if a != b else "same")
EOF
expect_eq "the pooling changes the image scores" "$(cat "$T/differ")" differ
# Maps smaller than the kernel (about 100x100 against 200x200): ADer's
# avg_pool2d would raise; the score is the map's max, with a note.
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F json --compat ader \
	--ader-pooling 200 --metrics i-auroc,p-auroc,p-ap,p-f1max,aupro
expect_status "a kernel larger than the maps: exit 0" 0
expect_grep "a kernel larger than the map is noted" "smaller than the 200x200 pooling kernel: image scores of such maps are their maximum" "$T/err"
cp "$T/out" "$T/ader_200.json"
agree "... and the image scores are the maps' maxima" "$T/aref_none.json" "$T/ader_200.json"
# the pooling is recorded in partial files and given back by the merge
run $EVAL --gt "$T/ds" --maps "$T/m_float" --compat ader --ader-pooling 21 \
	--metrics i-auroc,p-auroc,p-ap,p-f1max,aupro --partial -o "$T/p21.part"
run $EVAL --merge -F json "$T/p21.part"
expect_same "--merge of an --ader-pooling 21 run gives its table" "$T/out" "$T/ader_21.json"
run $EVAL --gt "$T/ds" --maps "$T/m_float" --compat ader --ader-pooling none \
	--metrics i-auroc,p-auroc,p-ap,p-f1max,aupro --shard 1/2 --partial -o "$T/pn1.part"
run $EVAL --gt "$T/ds" --maps "$T/m_float" --compat ader --ader-pooling 21 \
	--metrics i-auroc,p-auroc,p-ap,p-f1max,aupro --shard 0/2 --partial -o "$T/p210.part"
run $EVAL --merge "$T/p210.part" "$T/pn1.part"
expect_status "shards of different --ader-pooling are not merged" 3

# ---- undefined metrics: n/a, left out of the mean, counted in a footnote ----
# building_block without its anomalous test images: no positives there.
$BIN/mirad-split "$T/ds" 2>/dev/null |
	grep -v '"category":"building_block","split":"test","label":"anomaly"' >"$T/noanom.jsonl"
run $EVAL --gt "$T/noanom.jsonl" --maps "$T/m_float" -F json
expect_status "a category without anomalies: exit 0" 0
cp "$T/out" "$T/noanom.json"
$PY - "$T/noanom.json" >"$T/undef" <<'EOF'
import json, math, sys
j = json.load(open(sys.argv[1]))
cats = j["categories"]
bb = [c for c in cats if c["category"] == "building_block"][0]
bad = [k for k in ("i-auroc", "i-ap", "i-f1max", "p-auroc", "p-ap",
                   "p-f1max", "aupro") if bb[k] is not None]
for k, v in j["mean"].items():
    vals = [c[k] for c in cats if c[k] is not None]
    if not math.isclose(v, sum(vals) / len(vals), rel_tol=0, abs_tol=1e-15):
        bad.append("mean " + k)
    if j["mean_categories"][k] != len(vals):
        bad.append("count " + k)
print(" ".join(bad) if bad else "ok")
EOF
expect_eq "AP, F1max, AUROC and AU-PRO without positives are all null, and means and counts leave them out" \
	"$(cat "$T/undef")" ok
expect_grep "the undefined metrics are named" "building_block: no anomalous test images: I-AUROC, I-AP and I-F1max are undefined" "$T/err"
run $EVAL --gt "$T/noanom.jsonl" --maps "$T/m_float" --metrics i-auroc,i-ap,aupro
expect_grep "md: n/a in the table" '^\| building_block \| 1 \| n/a \| n/a \| n/a \|$' "$T/out"
expect_grep "md: a footnote counts the categories of each mean" "^n/a: undefined .*left out of the means: I-AUROC over 9 of 10 categories, I-AP over 9 of 10 categories, AUPRO over 9 of 10 categories\.$" "$T/out"
run $EVAL --gt "$T/noanom.jsonl" --maps "$T/m_float" --metrics i-ap -F tex
expect_grep "tex: the footnote is a last table row" '^\\multicolumn\{3\}\{l\}\{\\footnotesize n/a: undefined, left out of the means: I-AP over 9 of 10 categories\} \\\\$' "$T/out"
run $EVAL --gt "$T/noanom.jsonl" --methods "a=$T/m_float,b=$T/m_half" --metrics i-ap
expect_grep "--methods: the footnote names the method" "left out of the means: a I-AP over 9 of 10 categories, b I-AP over 9 of 10 categories\.$" "$T/out"
run $EVAL --gt "$T/ds" --maps "$T/m_float" --metrics i-ap
expect_no_grep "no footnote when every value is defined" "^n/a" "$T/out"
# compat=ader: an undefined ADEval AU-PRO is noted, not dropped silently
run $EVAL --gt "$T/ds" --maps "$T/m_float" --compat ader --metrics aupro --pro-limit 1
expect_grep "compat=ader: an undefined AU-PRO is noted" "ADEval's AU-PRO is undefined" "$T/err"
expect_grep "... and footnoted" "AUPRO over 0 of 10 categories" "$T/out"

# ---- -q prints errors only ----
run $EVAL --gt "$T/noanom.jsonl" --maps "$T/m_half"
expect_grep "resized maps and undefined metrics are warned about" "resized.*|undefined" "$T/err"
run $EVAL -q --gt "$T/noanom.jsonl" --maps "$T/m_half"
expect_status "-q: exit 0" 0
expect_empty "-q: no warnings at all" "$T/err"
cp -r "$T/m_half" "$T/m_mixed"
cp "$T/m_f64/chain_buckle/test/good/000.tiff" "$T/m_mixed/chain_buckle/test/good/000.tiff"
rm "$T/m_mixed/rabbit_pendant/test/good/000.tiff"
run $EVAL --gt "$T/noanom.jsonl" --maps "$T/m_mixed" --compat ader --ader-pooling 200
expect_status "warnings and a missing map: exit 1" 1
cp "$T/out" "$T/loud.md"
for w in "resized" "rounded to float32" "are undefined" "pooling kernel" "no anomaly map" "1 test images skipped"; do
	expect_grep "without -q: '$w'" "$w" "$T/err"
done
run $EVAL -q --gt "$T/noanom.jsonl" --maps "$T/m_mixed" --compat ader --ader-pooling 200
expect_status "-q: the same exit status" 1
expect_same "-q: the same table" "$T/out" "$T/loud.md"
expect_no_grep "-q silences the warnings" "resized|rounded|undefined|pooling" "$T/err"
expect_grep "-q still reports the skipped image" "no anomaly map" "$T/err"

done_testing
