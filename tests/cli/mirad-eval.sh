# SPDX-License-Identifier: MIT
# Black-box tests of mirad-eval: agreement with scikit-learn and a NumPy
# restatement of the MVTec AU-PRO (tests/cli/eval_reference.py) to 1e-9 on
# synthetic maps, file formats, edge cases and errors.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python numpy PIL sklearn
EVAL=$BIN/mirad-eval
REF="$PY $MIRAD_SRCDIR/tests/cli/eval_reference.py"

common_cli_checks mirad-eval

# ---- usage errors ----
run $EVAL --maps "$T"
expect_status "--gt is required" 2
expect_grep "missing --gt is named" "gt DATASET is required" "$T/err"
run $EVAL --gt "$T" --maps "$T" --methods "$T"
expect_status "--maps and --methods exclude each other" 2
run $EVAL --gt "$T" --maps "$T" --metrics i-auroc,bogus
expect_status "unknown metric is a usage error" 2
expect_grep "unknown metric lists the allowed ones" "unknown metric 'bogus' \(i-auroc" "$T/err"
run $EVAL --gt "$T" --maps "$T" --pro-limit 0
expect_status "--pro-limit 0 is rejected" 2
run $EVAL --gt "$T" --maps "$T" --compat anomalib
expect_status "unknown --compat is rejected" 2
run $EVAL --gt "$T" --maps "$T" --format xml
expect_status "unknown --format is rejected" 2

# ---- data ----
fixture mvtec-small "$T/ds"
check "sample dataset generated" test -d "$T/ds/rabbit_pendant/ground_truth"

# The maps of every kind and their references, from one start of the
# reference script (scikit-learn alone takes seconds to import):
# float (random float32 TIFF), ties (5 levels, -0.0 and +0.0 mixed: heavy
# ties), quant8 (8-bit PNG), uint16 (16-bit TIFF), png16 (16-bit PNG), npy
# (float32 .npy), heavy (heavy-tailed float32); another integration limit;
# the ADer restatement.
kinds="float ties quant8 uint16 png16 npy heavy"
# batch_line OUT COMMAND ARG...: one line of an eval_reference.py batch.
batch_line() { (IFS="$(printf '\t')"; echo "$*"); }
for _k in $kinds; do
	batch_line - gen "$T/ds" "$T/m_$_k" "$_k" 7
	batch_line "$T/ref_$_k.json" ref "$T/ds" "$T/m_$_k"
done >"$T/batch"
batch_line "$T/ref01.json" ref "$T/ds" "$T/m_ties" 0.1 >>"$T/batch"
batch_line "$T/aref.json" ader "$T/ds" "$T/m_float" >>"$T/batch"
$REF batch <"$T/batch"

# The tool on each, then the comparisons at 1e-9, again in one start.
: >"$T/batch"
for _k in $kinds; do
	run $EVAL --gt "$T/ds" --maps "$T/m_$_k" -F json
	expect_status "$_k maps: exit 0" 0
	cp "$T/out" "$T/tool_$_k.json"
	batch_line "$T/cmp_$_k" cmp "$T/ref_$_k.json" "$T/tool_$_k.json" 1e-9 >>"$T/batch"
done
run $EVAL --gt "$T/ds" --maps "$T/m_ties" -F json --pro-limit 0.1
cp "$T/out" "$T/tool01.json"
batch_line "$T/cmp01" cmp "$T/ref01.json" "$T/tool01.json" 1e-9 >>"$T/batch"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F json --compat ader \
	--metrics i-auroc,p-auroc,p-ap,p-f1max,aupro
expect_status "--compat ader exits 0" 0
cp "$T/out" "$T/tool_ader.json"
batch_line "$T/cmp_ader" cmp "$T/aref.json" "$T/tool_ader.json" 1e-9 >>"$T/batch"
$REF batch <"$T/batch"
# agreed CMP: the comparison written to CMP passed.
agreed() { [ "$(cat "$1.rc" 2>/dev/null)" = 0 ]; }
for _k in $kinds; do
	if agreed "$T/cmp_$_k"; then
		ok "$_k maps: all metrics agree with sklearn/MVTec to 1e-9 ($(tail -1 "$T/cmp_$_k"))"
	else
		not_ok "$_k maps: metrics differ from the references"; diag "$T/cmp_$_k"
	fi
done
if agreed "$T/cmp01"; then
	ok "--pro-limit 0.1 agrees with the reference"
else
	not_ok "--pro-limit 0.1 differs"; diag "$T/cmp01"
fi

# ---- ADer compatibility ----
if agreed "$T/cmp_ader"; then
	ok "--compat ader reproduces the ADEval/ADer restatement"
else
	not_ok "--compat ader differs"; diag "$T/cmp_ader"
fi
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F csv --compat ader --metrics aupro
cp "$T/out" "$T/ader.csv"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F csv --metrics aupro
if cmp -s "$T/out" "$T/ader.csv"; then not_ok "--compat ader differs from the exact AU-PRO"; else ok "--compat ader differs from the exact AU-PRO"; fi

# ---- inputs: stdin manifest, -o, masks of 1, scores ----
$BIN/mirad-split "$T/ds" >"$T/ds.jsonl" 2>/dev/null
run_in "$T/ds.jsonl" $EVAL --gt - --maps "$T/m_float" -F json
expect_same "a manifest on stdin gives the same result" "$T/out" "$T/tool_float.json"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F json -o "$T/o.json"
expect_status "-o exits 0" 0
expect_same "-o FILE holds the table" "$T/o.json" "$T/tool_float.json"

cp -r "$T/ds" "$T/ds1"
$PY - "$T/ds1" <<'EOF'
import glob, sys
import numpy as np
from PIL import Image
for p in glob.glob(sys.argv[1] + "/*/ground_truth/*/*.png"):
    m = np.array(Image.open(p))
    Image.fromarray(((m > 0) * 1).astype(np.uint8)).save(p)
EOF
run $EVAL --gt "$T/ds1" --maps "$T/m_float" -F json
expect_same "masks with value 1 equal masks with 255" "$T/out" "$T/tool_float.json"

# maps named by a "map" field in the manifest, relative to --maps
mkdir -p "$T/flat"
$PY - "$T/ds.jsonl" "$T/m_npy" "$T/flat" >"$T/mapped.jsonl" <<'EOF'
import json, os, shutil, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["split"] == "test":
        d, f = os.path.split(r["image"])
        stem = os.path.splitext(f)[0]
        name = "%s_%s_%s.npy" % (r["category"], os.path.basename(d), stem)
        shutil.copy(os.path.join(sys.argv[2], r["category"], "test",
                                 os.path.basename(d), stem + ".npy"),
                    os.path.join(sys.argv[3], name))
        r["map"] = name
    print(json.dumps(r))
EOF
run $EVAL --gt "$T/mapped.jsonl" --maps "$T/flat" -F json
expect_same "a manifest map field names the map" "$T/out" "$T/tool_npy.json"

# scores: the max of each map, as CSV and as JSON Lines, keyed by image
$PY - "$T/ds.jsonl" "$T/m_float" "$T/scores" <<'EOF'
import json, os, sys
import numpy as np
from PIL import Image
recs = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[3] + ".csv", "w") as c, open(sys.argv[3] + ".jsonl", "w") as j, \
        open(sys.argv[3] + "_neg.csv", "w") as n:
    c.write("image,score\n"); n.write("score,image\n")
    for r in recs:
        if r["split"] != "test":
            continue
        d, f = os.path.split(r["image"])
        stem = os.path.splitext(f)[0]
        m = np.array(Image.open(os.path.join(sys.argv[2], r["category"], "test",
                                             os.path.basename(d), stem + ".tiff")))
        s = float(m.max())
        c.write("%s,%r\n" % (r["image"], s))
        j.write(json.dumps({"image": os.path.splitext(r["image"])[0], "score": s}) + "\n")
        n.write("%r,%s\n" % (-s, r["image"]))
EOF
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F json --scores "$T/scores.csv"
expect_same "--scores CSV with the map maxima changes nothing" "$T/out" "$T/tool_float.json"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F json --scores "$T/scores.jsonl"
expect_same "--scores JSON Lines keyed without extension" "$T/out" "$T/tool_float.json"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F csv --metrics i-auroc --scores "$T/scores_neg.csv"
cp "$T/out" "$T/neg.csv"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F csv --metrics i-auroc
got=$($PY -c "
import csv,sys
a={r['category']:r['i-auroc'] for r in csv.DictReader(open('$T/neg.csv'))}
b={r['category']:r['i-auroc'] for r in csv.DictReader(open('$T/out'))}
print(all(abs(float(a[k])+float(b[k])-1)<1e-12 for k in b if b[k]!='nan'))")
expect_eq "negated --scores give 1 - I-AUROC" "$got" "True"
head -3 "$T/scores.csv" >"$T/few.csv"
run $EVAL --gt "$T/ds" --maps "$T/m_float" --scores "$T/few.csv"
expect_status "images without a score are skipped (exit 1)" 1
expect_grep "a missing score is named" "test/.*/[0-9]+\.png: no score in" "$T/err"

# ---- edge cases ----
# a category with no anomalies: only good images in the manifest
grep '"label":"normal"' "$T/ds.jsonl" | grep '"split":"test"' | grep rabbit_pendant >"$T/good.jsonl"
run $EVAL --gt "$T/good.jsonl" --maps "$T/m_float" -F json
expect_status "a category without anomalies still evaluates" 0
expect_grep "its AU-PRO is null" '"aupro":[[:space:]]*null' "$T/out"
expect_grep "its image AUROC is null" '"i-auroc":[[:space:]]*null' "$T/out"
expect_grep "a warning says why" "rabbit_pendant: no anomalous test images" "$T/err"

# constant maps: every AUROC 0.5, AP = prevalence
cp -r "$T/m_npy" "$T/m_const"
$PY - "$T/m_const" <<'EOF'
import glob, sys
import numpy as np
for p in glob.glob(sys.argv[1] + "/*/test/*/*.npy"):
    np.save(p, np.full(np.load(p).shape, 0.25, dtype=np.float32))
EOF
run $EVAL --gt "$T/ds" --maps "$T/m_const" -F csv --metrics p-auroc,i-auroc
expect_no_grep "constant maps: every AUROC is 0.5" ',0\.[0-46-9]|,1,|,0\.5[0-9]' "$T/out"
expect_grep "constant maps: AUROC printed as 0.5" '^rabbit_pendant,.*,0\.5,0\.5$' "$T/out"

# a region touching the border, diagonal-only regions
cp -r "$T/ds" "$T/dsb"
$PY - "$T/dsb" <<'EOF'
import glob, sys
import numpy as np
from PIL import Image
for i, p in enumerate(sorted(glob.glob(sys.argv[1] + "/*/ground_truth/*/*.png"))):
    m = np.array(Image.open(p))
    m[0, :] = 255            # along the top border
    m[:, -1] = 255           # and down the right border
    if i % 2:
        for k in range(min(m.shape) // 2):
            m[-1 - k, k] = 255   # a diagonal-only line (8- vs 4-connected)
    Image.fromarray(m).save(p)
EOF
$REF ref "$T/dsb" "$T/m_ties" >"$T/refb.json"
run $EVAL --gt "$T/dsb" --maps "$T/m_ties" -F json
if $REF cmp "$T/refb.json" "$T/out" 1e-9 >"$T/cmp" 2>&1; then
	ok "border and diagonal regions agree with the reference"
else
	not_ok "border/diagonal regions differ"; diag "$T/cmp"
fi

# ---- bad maps ----
cp -r "$T/m_float" "$T/m_bad"
rm "$T/m_bad/chain_buckle/test/good/000.tiff"
run $EVAL --gt "$T/ds" --maps "$T/m_bad" -F csv
expect_status "a missing map: exit 1" 1
expect_grep "the missing map is named" "m_bad/chain_buckle/test/good/000: no anomaly map" "$T/err"
expect_grep "the other categories are still evaluated" "^rabbit_pendant," "$T/out"
run $EVAL --gt "$T/ds" --maps "$T/m_bad" -F csv --strict
expect_status "a missing map with --strict: exit 3" 3

cp -r "$T/m_float" "$T/m_nan"
$PY - "$T/m_nan/building_block/test/good/000.tiff" <<'EOF'
import sys
import numpy as np
from PIL import Image
a = np.array(Image.open(sys.argv[1]))
a[2, 5] = np.nan
Image.fromarray(a, mode="F").save(sys.argv[1])
EOF
run $EVAL --gt "$T/ds" --maps "$T/m_nan"
expect_status "a NaN map: exit 1" 1
expect_grep "the NaN is reported with its file and position" "building_block/test/good/000.tiff: NaN score at x=5 y=2" "$T/err"
$PY -c "
import numpy as np; a=np.load('$T/m_npy/magnetic_block/test/good/000.npy'); a[0,0]=np.inf
np.save('$T/m_inf.npy', a)"
cp -r "$T/m_npy" "$T/m_inf" && cp "$T/m_inf.npy" "$T/m_inf/magnetic_block/test/good/000.npy"
run $EVAL --gt "$T/ds" --maps "$T/m_inf"
expect_grep "an infinite score is an error too" "000.npy: infinite score at x=0 y=0" "$T/err"

cp -r "$T/m_float" "$T/m_two"
cp "$T/m_npy/number_block/test/good/000.npy" "$T/m_two/number_block/test/good/"
run $EVAL --gt "$T/ds" --maps "$T/m_two"
expect_status "two maps for one image: exit 1" 1
expect_grep "two maps are reported" "number_block/test/good/000: 2 anomaly maps" "$T/err"

cp -r "$T/m_npy" "$T/m_hdr"
printf '\223NUMPY\001\000\026\000{"descr": "<f4"}     \n' >"$T/m_hdr/geometric_block/test/good/000.npy"
run $EVAL --gt "$T/ds" --maps "$T/m_hdr"
expect_grep "a malformed .npy header is reported" "000.npy: malformed .npy header" "$T/err"
$PY -c "import numpy as np; np.save('$T/m_hdr/geometric_block/test/good/000.npy', np.zeros((4,4)))"
run $EVAL --gt "$T/ds" --maps "$T/m_hdr"
expect_grep "a float64 .npy is refused by dtype" "dtype '<f8' not supported" "$T/err"

# wrong sizes: half-size maps are resized with a warning, or refused
cp -r "$T/m_float" "$T/m_half"
$PY - "$T/m_half" <<'EOF'
import glob, sys
from PIL import Image
for p in glob.glob(sys.argv[1] + "/geometric_button/test/*/*.tiff"):
    im = Image.open(p)
    im.resize((im.width // 2, im.height // 2), Image.BILINEAR).save(p)
EOF
run $EVAL --gt "$T/ds" --maps "$T/m_half" -F csv
expect_status "maps of another size are resized: exit 0" 0
expect_grep "the resize is warned about once per category" "geometric_button: [0-9]+ maps resized \(bilinear\)" "$T/err"
run $EVAL --gt "$T/ds" --maps "$T/m_half" --strict
expect_status "--strict refuses a size mismatch (exit 3)" 3
expect_grep "the mismatch is described" "geometric_button/test/.*: map is [0-9]+x[0-9]+, mask is [0-9]+x[0-9]+" "$T/err"

# ---- --methods: paper-style table ----
run $EVAL --gt "$T/ds" --methods "$T/m_float,ties=$T/m_ties,$T/m_quant8" -F csv --metrics i-auroc,aupro
expect_status "--methods exits 0" 0
expect_grep "--methods header names the methods" "^category,metric,m_float,ties,m_quant8,mean,std$" "$T/out"
cp "$T/out" "$T/methods.csv"
got=$($PY - "$T/methods.csv" "$T/tool_float.json" "$T/tool_ties.json" "$T/tool_quant8.json" <<'EOF'
import csv, json, sys
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
tools = [json.load(open(p)) for p in sys.argv[2:5]]
ok = True
stds = []
for r in rows:
    if r["category"] == "mean":
        continue
    vals = [next(c[r["metric"]] for c in t["categories"] if c["category"] == r["category"]) for t in tools]
    ok &= np.allclose([float(r[k]) for k in ("m_float", "ties", "m_quant8")], vals, rtol=0, atol=1e-15)
    ok &= abs(float(r["mean"]) - np.mean(vals)) < 1e-12
    ok &= abs(float(r["std"]) - np.std(vals)) < 1e-12   # population std
    if r["metric"] == "aupro":
        stds.append(np.std(vals))
m = [r for r in rows if r["category"] == "mean" and r["metric"] == "aupro"][0]
ok &= abs(float(m["std"]) - np.mean(stds)) < 1e-12
ok &= abs(float(m["m_float"]) - tools[0]["mean"]["aupro"]) < 1e-12
print(ok)
EOF
)
expect_eq "--methods: values, mean, population std, dataset-row std" "$got" "True"
run $EVAL --gt "$T/ds" --methods "$T/m_float,$T/m_ties"
expect_grep "--methods md has Mean±Std cells" "^\| rabbit_pendant \| I-AUROC \| [0-9.]+ \| [0-9.]+ \| [0-9.]+±[0-9.]+ \|$" "$T/out"
expect_grep "--methods md has the Mean row" "^\| \*\*Mean\*\* \| I-AUROC \|" "$T/out"
run $EVAL --gt "$T/ds" --methods "$T/m_float,$T/m_ties" -F tex
expect_grep "--methods tex uses \\pm" 'Rabbit pendant & I-AUROC & .*\$\\pm\$' "$T/out"
run $EVAL --gt "$T/ds" --methods "$T/m_float,$T/m_ties" -F json
expect_grep "--methods json says the std is the population std" '"std":[[:space:]]*"population"' "$T/out"
run $EVAL --gt "$T/ds" --methods "$T/m_float,x/m_float"
expect_status "--methods with a missing directory: exit 3" 3

# ---- formats and output errors ----
run $EVAL --gt "$T/ds" --maps "$T/m_float"
expect_grep "md has one row per category" "^\| rabbit_pendant \| [0-9]+ \| [0-9.]+ \|" "$T/out"
expect_grep "md ends with the mean row" "^\| \*\*Mean\*\* \| [0-9]+ \|" "$T/out"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F tex
expect_grep "tex has a tabular" '^\\begin\{tabular\}' "$T/out"
expect_grep "tex has display names" '^Rabbit pendant & ' "$T/out"
run $EVAL --gt "$T/ds" --maps "$T/m_float" -F csv
expect_grep "csv has the header" "^category,images,anomalous,pixels,regions,i-auroc,i-ap,i-f1max,p-auroc,p-ap,p-f1max,aupro$" "$T/out"
# Category and method names with every format's specials: escaped in md
# and tex, quoted in csv, given back exactly by csv and json.
NAMES="$PY $MIRAD_SRCDIR/tests/cli/hostile_names.py"
$NAMES manifest "$T/ds.jsonl" map >"$T/hostile.jsonl"
for f in md csv json tex; do
	run $EVAL --gt "$T/hostile.jsonl" --maps "$T/m_float" -F $f
	expect_status "hostile category names ($f): exit 0" 0
	expect_eq "hostile category names are escaped in $f" "$($NAMES check $f "$T/out")" "ok"
	run $EVAL --gt "$T/hostile.jsonl" --methods "m|1=$T/m_float,m&2=$T/m_ties" -F $f --metrics i-auroc,aupro
	expect_status "hostile method names ($f): exit 0" 0
	expect_eq "hostile category and method names are escaped in $f" "$($NAMES check $f "$T/out" methods)" "ok"
done
run $EVAL --gt "$T/hostile.jsonl" --maps "$T/m_float" -F csv
expect_grep "csv: a name with a comma and a quote is quoted, the quote doubled" '^"x,y""z",' "$T/out"

rc=0; $EVAL --gt "$T/ds" --maps "$T/m_float" >/dev/full 2>"$T/err" || rc=$?
expect_status "a write error exits 3" 3
expect_grep "the write error is reported" "error writing standard output" "$T/err"
run $EVAL --gt "$T/nowhere" --maps "$T/m_float"
expect_status "an unreadable dataset exits 3" 3

done_testing
