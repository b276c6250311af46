#!/bin/sh
# SPDX-License-Identifier: MIT
# Black-box tests of mirad-convert: layouts, round trips, framework lists,
# the inputs users get wrong, and the VisA split files.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python numpy PIL
C=$BIN/mirad-convert
CLI=$MIRAD_SRCDIR/tests/cli
HASH="$PY $CLI/convert_pixel_hashes.py"
ANOMALIB="$PY $CLI/convert_anomalib_check.py"

common_cli_checks mirad-convert

# ---- usage errors -------------------------------------------------------
run "$C" --to mvtec "$T/nothing"
expect_status "no -o is a usage error" 2
expect_grep "missing -o is named" "no output folder" "$T/err"
run "$C" -o "$T/x" "$T/nothing"
expect_status "neither --to nor --emit is a usage error" 2
expect_grep "the allowed targets are listed" "mvtec, mirad, visa, visa-prepared" "$T/err"
run "$C" --to coco -o "$T/x" "$T/nothing"
expect_status "unknown target exits 2" 2
run "$C" --to mvtec --resize 0 -o "$T/x" "$T/nothing"
expect_status "--resize 0 exits 2" 2
run "$C" --to mvtec --resize 12x -o "$T/x" "$T/nothing"
expect_status "--resize 12x exits 2" 2
run "$C" --to mvtec --anomalib -o "$T/x" "$T/nothing"
expect_status "--anomalib without visa-prepared exits 2" 2
run "$C" --to mvtec --link reflink -o "$T/x" "$T/nothing"
expect_status "unknown --link exits 2" 2
run "$C" --emit coco -o "$T/x" "$T/nothing"
expect_status "unknown --emit format exits 2" 2
run "$C" --to mvtec -o "$T/x" "$T/nothing"
expect_status "a missing input is fatal (3)" 3
check "nothing is created for a missing input" test ! -e "$T/x"

# ---- MIRAD -> MVTec ------------------------------------------------------
"$GEN" -o "$T/mir" --scale 0.03 --seed 5 >/dev/null
nimg=$(find "$T/mir" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)
nmask=$(find "$T/mir" -path '*/ground_truth/*' -name '*.png' | wc -l)

run "$C" --to mvtec -o "$T/mv" "$T/mir"
expect_status "MIRAD -> MVTec exits 0" 0
expect_empty "MIRAD -> MVTec is quiet" "$T/err"
cp "$T/out" "$T/mv.jsonl"
expect_eq "one manifest line per image" "$(wc -l <"$T/mv.jsonl")" "$nimg"
expect_eq "every image is in the tree" \
	"$(find "$T/mv" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)" "$nimg"
expect_eq "every mask is in the tree" \
	"$(find "$T/mv" -path '*/ground_truth/*' -name '*_mask.png' | wc -l)" "$nmask"
run $ANOMALIB "$T/mv" "$T/mv.jsonl"
expect_status "anomalib's MVTecAD rules pair every image with its own mask" 0
expect_grep "the checker saw every pair" "pairs $nmask\$" "$T/out"
check "no ground_truth/good is created" test -z "$(find "$T/mv" -path '*ground_truth/good*')"
check "no hidden files are created but the output's mark" test -z "$(find "$T/mv" -name '.*' ! -path "$T/mv/.mirad-output.json")"
check "the output carries the mark" test -f "$T/mv/.mirad-output.json"
expect_grep "the manifest records the source" '"source":"[^"]*/mir/building_block/test/anomaly/000.png"' "$T/mv.jsonl"
f=$(find "$T/mv" -path '*/train/good/000.png' | head -n 1)
expect_eq "--link auto copies (or reflinks) unchanged images, never a hard link" "$(stat -c %h "$f")" 1

# ---- MVTec -> MIRAD round trip: same names, same pixels ---------------------
run "$C" --to mirad -o "$T/mir2" "$T/mv"
expect_status "MVTec -> MIRAD exits 0" 0
$HASH "$T/mir" >"$T/h.mir"
$HASH "$T/mir2" >"$T/h.mir2"
expect_eq "the hash list covers images and masks" "$(wc -l <"$T/h.mir")" $((nimg + nmask))
expect_same "MIRAD -> MVTec -> MIRAD keeps names and decoded pixels" "$T/h.mir" "$T/h.mir2"

# ---- MIRAD -> VisA -> MIRAD ------------------------------------------------
run "$C" --to visa -o "$T/visa" "$T/mir"
expect_status "MIRAD -> VisA exits 0" 0
expect_eq "split_csv/1cls.csv has a header and one row per image" \
	"$(wc -l <"$T/visa/split_csv/1cls.csv")" $((nimg + 1))
expect_eq "the split file has CRLF line ends" \
	"$(tr -cd '\r' <"$T/visa/split_csv/1cls.csv" | wc -c)" $((nimg + 1))
expect_eq "the split file header" "$(head -n 1 "$T/visa/split_csv/1cls.csv")" \
	"$(printf 'object,split,label,image,mask\r')"
expect_grep "normal rows have an empty mask" '^building_block,train,normal,building_block/Data/Images/Normal/[0-9]+\.png,'"$(printf '\r')"'$' "$T/visa/split_csv/1cls.csv"
check "image_anno.csv per class" test -f "$T/visa/building_block/image_anno.csv"
expect_eq "VisA masks sit in Data/Masks/Anomaly" \
	"$(find "$T/visa" -path '*/Data/Masks/Anomaly/*.png' | wc -l)" "$nmask"
run "$C" --to mirad -o "$T/mir3" "$T/visa"
expect_status "VisA -> MIRAD exits 0" 0
$HASH "$T/mir3" >"$T/h.mir3"
expect_same "MIRAD -> VisA -> MIRAD keeps names and decoded pixels" "$T/h.mir" "$T/h.mir3"

# ---- OUT exists, --force, link modes ---------------------------------------
run "$C" --to mvtec -o "$T/mv" "$T/mir"
expect_status "an existing OUT is refused (3)" 3
expect_grep "the refusal suggests --force" "mv: exists \\(use --force" "$T/err"
check "the refused run leaves no temporary folder" test -z "$(find "$T" -maxdepth 1 -name '.mv.*')"
run "$C" --to mvtec --force --link copy -o "$T/mv" "$T/mir"
expect_status "--force replaces OUT" 0
expect_eq "--link copy makes independent files" "$(stat -c %h "$T/mv/building_block/train/good/000.png")" 1
run "$C" --to mvtec --link symlink -o "$T/mvs" "$T/mir"
expect_status "--link symlink exits 0" 0
check "--link symlink makes symbolic links" test -L "$T/mvs/building_block/train/good/000.png"
run "$C" --to mvtec --link hardlink -o "$T/mvh" "$T/mir"
expect_status "--link hardlink exits 0" 0
expect_eq "--link hardlink shares the inode" \
	"$(stat -c %i "$T/mvh/building_block/train/good/000.png")" \
	"$(stat -c %i "$T/mir/building_block/train/good/000.png")"
run "$C" --to mvtec --force -o "$T/mir" "$T/mir"
expect_status "writing over the input is refused (2)" 2

# A second run on the same OUT waits for nobody: it fails at once.
if command -v flock >/dev/null 2>&1; then
	: >"$T/.locked.lock"
	flock "$T/.locked.lock" "$C" --to mvtec -o "$T/locked" "$T/mir" >"$T/out" 2>"$T/err" && rc=0 || rc=$?
	expect_status "a locked OUT is fatal (3)" 3
	expect_grep "the lock conflict is explained" "locked: cannot lock" "$T/err"
	check "nothing is written while locked" test ! -e "$T/locked"
fi

# ---- determinism: one thread or two, same bytes ---------------------------
run "$C" --to mvtec -j 1 --link copy -o "$T/d1" "$T/mir"
sed "s|$T/d1|OUT|g" "$T/out" >"$T/d1.jsonl"
run "$C" --to mvtec -j 2 --link copy -o "$T/d2" "$T/mir"
sed "s|$T/d2|OUT|g" "$T/out" >"$T/d2.jsonl"
expect_same "-j1 and -j2 print the same manifest" "$T/d1.jsonl" "$T/d2.jsonl"
(cd "$T/d1" && find . -type f | sort | xargs sha256sum) >"$T/d1.sum"
(cd "$T/d2" && find . -type f | sort | xargs sha256sum) >"$T/d2.sum"
expect_same "-j1 and -j2 write the same files, byte for byte" "$T/d1.sum" "$T/d2.sum"

# ---- resize and image format ----------------------------------------------
run "$C" --to mvtec --resize 40x30 -o "$T/small" "$T/mir"
expect_status "--resize 40x30 exits 0" 0
cp "$T/out" "$T/small.jsonl"
$HASH "$T/small" | awk '{print $3}' | sort | uniq -c | awk '{print $2, $1}' >"$T/sizes"
expect_eq "every image and mask is 40x30" "$(cat "$T/sizes")" "40x30 $((nimg + nmask))"
run $ANOMALIB "$T/small" "$T/small.jsonl"
expect_status "resized masks stay single-band 0/255 and paired" 0
expect_grep "the manifest has the new size" '"width":40,"height":30' "$T/small.jsonl"
run "$C" --to mirad --resize 24 -o "$T/sq" "$T/mir"
expect_status "--resize 24 exits 0" 0
expect_eq "--resize N gives N x N" "$($HASH "$T/sq" | awk '{print $3}' | sort -u)" "24x24"
run "$C" --to mirad --image-format jpg -o "$T/jpg" "$T/mir"
expect_status "--image-format jpg exits 0" 0
expect_eq "images are re-encoded as .jpg" \
	"$(find "$T/jpg" -path '*/ground_truth' -prune -o -name '*.jpg' -print | wc -l)" "$nimg"
expect_eq "masks stay PNG" "$(find "$T/jpg" -name '*_mask.png' | wc -l)" "$nmask"
run "$C" --to mvtec -o "$T/back" "$T/jpg"
expect_status "JPEG -> MVTec exits 0" 0
expect_eq "the MVTec target re-encodes JPEG as PNG" \
	"$(find "$T/back" -name '*.jpg' | wc -l) $(find "$T/back" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)" "0 $nimg"

f=$T/jpg/building_block/train/good/001.jpg
head -c $(($(stat -c %s "$f") / 2)) "$f" >"$T/half.jpg" && mv "$T/half.jpg" "$f"
run "$C" --to mirad -o "$T/jpg2" "$T/jpg"
expect_status "a truncated JPEG that would only be linked is still found (1)" 1
expect_grep "the truncated JPEG is named" "^mirad-convert: $f: truncated JPEG$" "$T/err"

# Damage the default check finds without a full decode (libjpeg's corrupt-
# data warnings at 1/8 scale; libpng's chunk CRCs): flipped bits in a PNG,
# a marker in the middle of a JPEG's entropy-coded data.
flip_byte() { # FILE OFFSET: XOR one byte with 0x55
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 85)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
g=$T/jpg/building_block/train/good/002.jpg
printf '\377\320' | dd of="$g" bs=1 seek=$(($(stat -c %s "$g") / 2)) conv=notrunc 2>/dev/null
cp -R "$T/mir" "$T/flip" # the same sample, not written to so far
p=$T/flip/building_block/train/good/001.png
flip_byte "$p" $(($(stat -c %s "$p") / 2))
run "$C" --to mirad -o "$T/jpg3" "$T/jpg"
expect_status "a damaged JPEG that would only be linked is found (1)" 1
expect_grep "the damaged JPEG is named" "^mirad-convert: $g: damaged JPEG$" "$T/err"
expect_eq "the truncated and the damaged JPEG are skipped" \
	"$(find "$T/jpg3" -path '*/ground_truth' -prune -o -name '*.jpg' -print | wc -l)" "$((nimg - 2))"
run "$C" --to mirad -o "$T/flip2" "$T/flip"
expect_status "a bit-flipped PNG that would only be linked is found (1)" 1
expect_grep "the bit-flipped PNG is named" "^mirad-convert: $p: truncated or damaged PNG$" "$T/err"
run "$C" --to mirad --no-verify -o "$T/flip3" "$T/flip"
expect_status "--no-verify does not look (0)" 0

# ---- categories, mapping, lists ----------------------------------------------
run "$C" --to mvtec --categories chain_buckle,rabbit_pendant --mapping "$T/map.csv" -o "$T/two" "$T/mir"
expect_status "--categories exits 0" 0
expect_eq "only the chosen categories" "$(ls "$T/two" | tr '\n' ' ')" "chain_buckle rabbit_pendant "
n2=$(find "$T/two" -name '*.png' | wc -l)
expect_eq "--mapping: a header and one row per written file" "$(wc -l <"$T/map.csv")" $((n2 + 1))
expect_grep "--mapping maps source to target" "^$T/mir/chain_buckle/ground_truth/anomaly/000_mask.png,chain_buckle/ground_truth/anomaly/000_mask.png\$" "$T/map.csv"
run "$C" --to mvtec --categories nosuch -o "$T/none" "$T/mir"
expect_status "an unknown category is a usage error" 2

ntrain=$(find "$T/mir" -path '*/train/*' -name '*.png' | wc -l)
ntest=$((nimg - ntrain))
run "$C" --to mvtec --emit jsonl,tabular-csv,uniad,meta-json,visa-csv -o "$T/lists" "$T/mir"
expect_status "--emit with a tree exits 0" 0
expect_eq "UniAD train.json has the training images" "$(wc -l <"$T/lists/train.json")" "$ntrain"
expect_eq "UniAD test.json has the test images" "$(wc -l <"$T/lists/test.json")" "$ntest"
expect_eq "tabular.csv has a header and every image" "$(wc -l <"$T/lists/tabular.csv")" $((nimg + 1))
expect_eq "manifest.jsonl is the printed manifest" "$(cat "$T/lists/manifest.jsonl" | wc -l)" "$nimg"
check "split_csv/1cls.csv is written" test -f "$T/lists/split_csv/1cls.csv"
"$PY" - "$T/lists" >"$T/check" 2>&1 <<'PYEOF'
import csv, json, os, sys
root = sys.argv[1]
bad = 0
meta = json.load(open(os.path.join(root, "meta.json")))
for split in ("train", "test"):
    for cls, items in meta[split].items():
        for it in items:
            if not os.path.isfile(os.path.join(root, it["img_path"])): bad += 1
            if it["anomaly"] and not os.path.isfile(os.path.join(root, it["mask_path"])): bad += 1
for row in csv.DictReader(open(os.path.join(root, "tabular.csv"))):
    if not os.path.isfile(os.path.join(root, row["image_path"])): bad += 1
    if row["label_index"] == "1" and not os.path.isfile(os.path.join(root, row["mask_path"])): bad += 1
for line in open(os.path.join(root, "test.json")):
    r = json.loads(line)
    if r["label"] == 1 and not os.path.isfile(os.path.join(root, r["maskname"])): bad += 1
print(bad)
PYEOF
expect_eq "every list path resolves inside OUT" "$(cat "$T/check")" 0

# Lists alone: paths relative to the dataset root, no files copied.
run "$C" --emit tabular-csv,meta-json -o "$T/only" "$T/mir"
expect_status "--emit without --to exits 0" 0
expect_eq "only the lists are written" "$(ls "$T/only" | tr '\n' ' ')" "meta.json tabular.csv "
expect_grep "list paths are relative to the dataset root" "^building_block/test/anomaly/000.png,abnormal,1,test,building_block/ground_truth/anomaly/000_mask.png\$" "$T/only/tabular.csv"

# ---- a pipe: manifest on stdin -----------------------------------------------
"$BIN/mirad-split" "$T/mir" >"$T/m.jsonl"
run_in "$T/m.jsonl" "$C" --to mvtec -o "$T/piped" -
expect_status "a manifest on stdin converts" 0
$HASH "$T/mv" >"$T/h.mv"
$HASH "$T/piped" >"$T/h.piped"
expect_same "stdin gives the same tree as the folder" "$T/h.mv" "$T/h.piped"

# ---- the traps: mask encodings, case, hidden files, damaged files ----------------
"$PY" "$CLI/convert_odd_masks.py" "$T/oddsrc"
run "$C" --to mvtec -o "$T/odd" "$T/oddsrc"
expect_status "bad images make the run exit 1" 1
cp "$T/out" "$T/odd.jsonl"
expect_grep "a truncated PNG is reported by path" "^mirad-convert: $T/oddsrc/odd/test/trunc/000.png: " "$T/err"
expect_grep "a wrong-size mask is reported with both sizes" "^mirad-convert: $T/oddsrc/odd/ground_truth/wrongsize/000_mask.png: mask is 32x32, image is 48x40\$" "$T/err"
expect_eq "two records are skipped, eight written" "$(wc -l <"$T/odd.jsonl")" 8
run $ANOMALIB "$T/odd" "$T/odd.jsonl"
expect_status "0/1, palette, RGB, 1-bit and upper-case masks become paired 0/255 L masks" 0
expect_grep "five masks survive" "pairs 5\$" "$T/out"
"$PY" - "$T/odd" >"$T/check" <<'PYEOF'
import glob, sys
import numpy as np
from PIL import Image
for f in sorted(glob.glob(sys.argv[1] + "/odd/ground_truth/*/*.png")):
    print(f.split("/")[-2], int((np.asarray(Image.open(f)) == 255).sum()))
PYEOF
expect_eq "every non-zero mask pixel is kept, nothing else" "$(tr '\n' ' ' <"$T/check")" \
	"onebit 30 palette 30 rgb 30 upper 30 zeroone 30 "
check "the upper-case .PNG image is written as .png" test -f "$T/odd/odd/test/upper/000.png"
expect_same "an 8-bit 0/255 mask is used as it is" "$T/odd/odd/ground_truth/upper/000_mask.png" "$T/oddsrc/odd/ground_truth/upper/000_mask.PNG"
expect_eq "a 0/1 mask is re-encoded" "$(stat -c %h "$T/odd/odd/ground_truth/zeroone/000_mask.png")" 1
check "hidden files and folders are not copied" test -z "$(find "$T/odd" -name '.*' ! -path "$T/odd/.mirad-output.json")"
check "the folders of skipped records are not left empty" test ! -e "$T/odd/odd/test/trunc"
run "$C" --to mvtec --strict -o "$T/odds" "$T/oddsrc"
expect_status "--strict stops at the first bad image (3)" 3
check "--strict leaves no output" test ! -e "$T/odds"
check "--strict leaves no temporary folder" test -z "$(find "$T" -maxdepth 1 -name '.odds.*')"

# A failure in the middle of a folder: the survivors are renumbered.
cp -r "$T/mir" "$T/gap"
head -c 200 "$T/mir/building_block/test/anomaly/001.png" >"$T/gap/building_block/test/anomaly/001.png"
run "$C" --to mvtec -o "$T/gapout" "$T/gap"
expect_status "a truncated image exits 1" 1
expect_eq "names stay contiguous" "$(ls "$T/gapout/building_block/test/anomaly" | tr '\n' ' ')" \
	"$(ls "$T/mir/building_block/test/anomaly" | sed '$d' | tr '\n' ' ')"
expect_grep "the image after the gap moved up with its mask" '"image":"building_block/test/anomaly/001.png","mask":"building_block/ground_truth/anomaly/001_mask.png".*"source":"[^"]*/gap/building_block/test/anomaly/002.png"' "$T/out"
cp "$T/out" "$T/gap.jsonl"
run $ANOMALIB "$T/gapout" "$T/gap.jsonl"
expect_status "the renumbered tree still pairs" 0

# ---- MVTec LOCO: a folder of masks per image, OR-ed ----------------------------
"$PY" - "$T/loco" <<'PYEOF'
import os, sys
import numpy as np
from PIL import Image
root = os.path.join(sys.argv[1], "box")
def save(a, rel):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    Image.fromarray(a).save(p)
img = np.full((20, 30, 3), 90, np.uint8)
for rel in ("train/good/000.png", "validation/good/000.png", "test/good/000.png",
            "test/logical_anomalies/000.png"):
    save(img, rel)
a = np.zeros((20, 30), np.uint8); a[0:4, 0:5] = 236   # LOCO values < 255
b = np.zeros((20, 30), np.uint8); b[2:6, 3:8] = 255   # overlapping
save(a, "ground_truth/logical_anomalies/000/000.png")
save(b, "ground_truth/logical_anomalies/000/001.png")
PYEOF
run "$C" --to mvtec -o "$T/locomv" "$T/loco"
expect_status "MVTec LOCO -> MVTec exits 0" 0
check "the validation split is kept as validation/good" test -f "$T/locomv/box/validation/good/000.png"
expect_eq "the masks of one image are OR-ed (20 + 20 - 4 overlapping pixels)" \
	"$("$PY" -c 'import sys,numpy as np; from PIL import Image; print(int((np.asarray(Image.open(sys.argv[1]))==255).sum()))' "$T/locomv/box/ground_truth/logical_anomalies/000_mask.png")" 36

# ---- VisA raw -> prepared, for each of the real split files ----------------------
# Three classes of the real split files (rows kept byte for byte, CRLF):
# candle and pcb4 have 4-digit normal names, capsules 3-digit ones that
# collide with its anomaly names.
mkdir "$T/csv"
for f in 1cls 2cls_fewshot 2cls_highshot; do
	grep -E '^(object|candle|capsules|pcb4),' "$DATA/visa_split_csv/$f.csv" >"$T/csv/$f.csv"
done
"$GEN" --visa-csv "$T/csv/1cls.csv" --image-scale 0.1 -o "$T/visa_raw" >/dev/null
# Folder counts per class that each VisA split file gives.
for spec in "1cls candle/train/good=900 candle/test/good=100 candle/test/bad=100 candle/ground_truth/bad=100 capsules/train/good=542 capsules/test/good=60 capsules/test/bad=100 capsules/ground_truth/bad=100 pcb4/train/good=904 pcb4/test/good=101 pcb4/test/bad=100 pcb4/ground_truth/bad=100" \
	"2cls_fewshot candle/train/good=200 candle/train/bad=20 candle/test/good=800 candle/test/bad=80 candle/ground_truth/train/bad=20 candle/ground_truth/test/bad=80 capsules/train/good=120 capsules/train/bad=20 capsules/test/good=482 capsules/test/bad=80 capsules/ground_truth/train/bad=20 capsules/ground_truth/test/bad=80 pcb4/train/good=201 pcb4/train/bad=20 pcb4/test/good=804 pcb4/test/bad=80 pcb4/ground_truth/train/bad=20 pcb4/ground_truth/test/bad=80" \
	"2cls_highshot candle/train/good=600 candle/train/bad=60 candle/test/good=400 candle/test/bad=40 candle/ground_truth/train/bad=60 candle/ground_truth/test/bad=40 capsules/train/good=361 capsules/train/bad=60 capsules/test/good=241 capsules/test/bad=40 capsules/ground_truth/train/bad=60 capsules/ground_truth/test/bad=40 pcb4/train/good=603 pcb4/train/bad=60 pcb4/test/good=402 pcb4/test/bad=40 pcb4/ground_truth/train/bad=60 pcb4/ground_truth/test/bad=40"; do
	st=${spec%% *}
	run "$C" --to visa-prepared --split-csv "$T/visa_raw/split_csv/$st.csv" -o "$T/vp_$st" "$T/visa_raw"
	expect_status "visa-prepared $st exits 0" 0
	expect_empty "visa-prepared $st reports nothing" "$T/err"
	got=$(cd "$T/vp_$st/$st" && find . -type f | sed 's|^\./||; s|/[^/]*$||' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
	want=$(echo "${spec#* }" | tr ' ' '\n' | sort | tr '\n' ' ')
	expect_eq "visa-prepared $st: the split file's folder counts" "$got" "$want"
done
# Names: prepare_data.py keeps every original name (.JPG), masks <stem>.png.
awk -F, 'NR > 1 { sub(/\r$/, ""); n = split($4, p, "/"); m = $5; k = split(m, q, "/");
	print $1 "/" $2 "/" ($3 == "normal" ? "good" : "bad") "/" p[n];
	if ($3 != "normal" && $2 == "test") print $1 "/ground_truth/bad/" q[k] }' \
	"$T/visa_raw/split_csv/1cls.csv" | sort >"$T/want_names"
(cd "$T/vp_1cls/1cls" && find . -type f | sed 's|^\./||' | sort) >"$T/got_names"
expect_same "visa-prepared 1cls: every file under its original name" "$T/want_names" "$T/got_names"
"$PY" - "$T/vp_1cls/1cls" >"$T/check" <<'PYEOF'
import glob, sys
import numpy as np
from PIL import Image
bad = 0
files = sorted(glob.glob(sys.argv[1] + "/*/ground_truth/bad/*.png"))
for f in files:
    im = Image.open(f)
    if im.mode != "L" or not set(np.unique(np.asarray(im)).tolist()) <= {0, 255}: bad += 1
    if (np.asarray(im) == 255).sum() == 0: bad += 1
print(len(files), bad)
PYEOF
expect_eq "visa-prepared masks: class ids became single-band 0/255" "$(cat "$T/check")" "300 0"
expect_eq "images are byte copies" \
	"$(cmp "$T/visa_raw/candle/Data/Images/Anomaly/000.JPG" "$T/vp_1cls/1cls/candle/test/bad/000.JPG" && echo same)" same
run "$C" --to visa-prepared --anomalib --categories candle,pcb4 -o "$T/vpa" "$T/visa_raw"
expect_status "--anomalib exits 0" 0
expect_eq "--anomalib writes visa_pytorch/<class>" "$(ls "$T/vpa" "$T/vpa/visa_pytorch" | tr '\n' ' ')" \
	"$T/vpa: visa_pytorch  $T/vpa/visa_pytorch: candle pcb4 "
# The raw VisA stems collide (Normal/000 vs Anomaly/000): the MVTec
# target renumbers, so both survive.
run "$C" --to mvtec --categories capsules -o "$T/capmv" "$T/visa_raw"
expect_status "VisA -> MVTec exits 0" 0
expect_eq "VisA -> MVTec keeps all 702 capsules images" \
	"$(find "$T/capmv" -path '*/ground_truth' -prune -o -name '*.png' -print | wc -l)" 702

done_testing
