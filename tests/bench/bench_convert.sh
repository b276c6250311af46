#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-convert against the obvious alternatives, each on the same tree,
# best of $BENCH_RUNS runs (default 3), output folders removed between runs
# (untimed).  Prints times and ratios; never fails on speed.
#  (a) MIRAD -> MVTec on the full-scale sample (4,789 images, 1,737 masks):
#      --link copy against cp -r, --link hardlink against cp -al.  Every run
#      of (a) writes to a fresh file system: a new tmpfs mounted for the run
#      when mount(8) is permitted (root), else a new folder in /dev/shm, else
#      (neither) the work folder; the rows' notes say which.  A file system
#      that earlier runs filled and emptied (ext4 journal, delayed
#      allocation) times the kernel's clean-up, not the copy.
#  (b) VisA raw -> visa-prepared (1cls) against a Python script doing what
#      prepare_data.py does (shutil copies, PIL mask binarisation).
#  (c) --resize 64 and --resize 256 against the equivalent PIL script.
# The work folder is $BENCH_DIR (default: a new folder in $TMPDIR or /tmp).
# BENCH_SCALE (default 1) scales every tree's counts (for (b), every
# 1/BENCH_SCALE-th row of the split file); BENCH_VISA_IMAGE_SCALE (default
# 4) and BENCH_IMAGE_SCALE (default 8) are the image sizes of (b) and (c).
set -eu
B=${MIRAD_BUILDDIR:?set MIRAD_BUILDDIR to a build tree}
PY=${PYTHON3:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../data
W=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-convert.XXXXXX")
shm=""
cleanup() {
	umount "$W/fs" 2>/dev/null || true
	[ -z "$shm" ] || rm -rf "$shm"
	rm -rf "$W"
}
trap cleanup EXIT
runs=${BENCH_RUNS:-3}
C=$B/src/mirad-convert
scale=${BENCH_SCALE:-1}
. "$here/bench_lib.sh"

best() { # best-of-N wall time of "$@" with $OUTDIR removed before each run
	b=""
	i=0
	while [ $i -lt "$runs" ]; do
		rm -rf "$OUTDIR"
		sync
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
		i=$((i + 1))
	done
	rm -rf "$OUTDIR"
	echo "$b"
}
# fresh_fs: how (a) gets a new file system per run: "tmpfs", "shm" or "none"
fresh_fs() {
	mkdir -p "$W/fs"
	if mount -t tmpfs -o mode=0755 tmpfs "$W/fs" 2>/dev/null; then
		umount "$W/fs"
		echo tmpfs
	elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
		echo shm
	else
		echo none
	fi
}
# best_fresh CMD...: like best, each run writing to $OUT on a new file system
# (made and removed untimed); CMD is run by eval, so it may name "$OUT".
best_fresh() {
	b=""
	i=0
	while [ $i -lt "$runs" ]; do
		case $fs in
		tmpfs)
			umount "$W/fs" 2>/dev/null || true
			mount -t tmpfs -o mode=0755 tmpfs "$W/fs"
			OUT=$W/fs/out
			;;
		shm)
			[ -z "$shm" ] || rm -rf "$shm"
			shm=$(mktemp -d /dev/shm/bench-convert.XXXXXX)
			OUT=$shm/out
			;;
		*)
			rm -rf "$W/fs/out"
			OUT=$W/fs/out
			;;
		esac
		sync
		s=$(date +%s.%N)
		eval "$*" >/dev/null
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
		i=$((i + 1))
	done
	case $fs in
	tmpfs) umount "$W/fs" ;;
	shm) rm -rf "$shm" && shm="" ;;
	*) rm -rf "$W/fs/out" ;;
	esac
	echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
line() { printf '%-52s %8.3f s  %s\n' "$1" "$2" "$3"; }

# (a) ---------------------------------------------------------------------
"$B/tests/mirad-gen-sample" -o "$W/MIRAD" --scale "$scale" --seed 1
npng=$(find "$W/MIRAD" -name '*.png' | wc -l)
echo "(a) MIRAD sample (--scale $scale): $npng PNG files, $(du -sh "$W/MIRAD" | cut -f1)"
cat "$W"/MIRAD/*/*/*/* >/dev/null
fs=$(fresh_fs)
case $fs in
tmpfs) fs_note="each run on a new tmpfs" ;;
shm) fs_note="each run in a new folder in /dev/shm" ;;
*) fs_note="each run in the work folder (no tmpfs)" ;;
esac
echo "copies: $fs_note"
t_cp=$(best_fresh cp -r '"$W/MIRAD"' '"$OUT"')
t_copy=$(best_fresh '"$C"' --link copy --to mvtec -o '"$OUT"' '"$W/MIRAD"')
t_copy_nv=$(best_fresh '"$C"' --link copy --no-verify --to mvtec -o '"$OUT"' '"$W/MIRAD"')
# Hard links cannot cross file systems: the links are made in the work
# folder, beside the input.
OUTDIR=$W/out
t_al=$(best cp -al "$W/MIRAD" "$W/out")
t_hard=$(best "$C" --link hardlink --to mvtec -o "$W/out" "$W/MIRAD")
t_hard_nv=$(best "$C" --link hardlink --no-verify --to mvtec -o "$W/out" "$W/MIRAD")
line "cp -r" "$t_cp" ""
line "mirad-convert --to mvtec --link copy" "$t_copy" "$(ratio "$t_copy" "$t_cp")x the time of cp -r (target <= 1.5)"
line "mirad-convert --to mvtec --link copy --no-verify" "$t_copy_nv" "$(ratio "$t_copy_nv" "$t_cp")x the time of cp -r"
line "cp -al" "$t_al" ""
line "mirad-convert --to mvtec --link hardlink" "$t_hard" "$(ratio "$t_hard" "$t_al")x the time of cp -al"
line "mirad-convert --to mvtec --link hardlink --no-verify" "$t_hard_nv" "$(ratio "$t_hard_nv" "$t_al")x the time of cp -al"
desc="MIRAD --scale $scale ($npng PNG files) -> MVTec"
bench_row convert "mirad-convert --to mvtec --link copy" "$desc" "$t_copy" "cp -r" "$t_cp" "best of $runs, $fs_note; target: at most 1.5x the time of cp -r (ratio >= 0.67)"
bench_row convert "mirad-convert --to mvtec --link copy --no-verify" "$desc" "$t_copy_nv" "cp -r" "$t_cp" "best of $runs, $fs_note"
bench_row convert "mirad-convert --to mvtec --link hardlink" "$desc" "$t_hard" "cp -al" "$t_al" "best of $runs"
bench_row convert "mirad-convert --to mvtec --link hardlink --no-verify" "$desc" "$t_hard_nv" "cp -al" "$t_al" "best of $runs"

# (b) ---------------------------------------------------------------------
# Three VisA classes (2,762 images, 300 test masks) at about 400 px.
mkdir "$W/csv"
grep -E '^(object|candle|capsules|pcb4),' "$data/visa_split_csv/1cls.csv" |
	awk -v k="$(awk -v s="$scale" 'BEGIN { k = int(1 / s + 0.5); print k < 1 ? 1 : k }')" \
		'NR == 1 || (NR - 1) % k == 0' >"$W/csv/1cls.csv"
visa_iscale=${BENCH_VISA_IMAGE_SCALE:-4}
"$B/tests/mirad-gen-sample" --visa-csv "$W/csv/1cls.csv" --image-scale "$visa_iscale" -o "$W/VisA"
njpg=$(find "$W/VisA" -name '*.JPG' | wc -l)
nmask=$(find "$W/VisA" -path '*Masks*' -name '*.png' | wc -l)
echo
echo "(b) VisA raw: $njpg JPG images, $nmask masks, $(du -sh "$W/VisA" | cut -f1)"
cat "$W"/VisA/*/Data/*/*/* >/dev/null
OUTDIR=$W/vp
t_py=$(best "$PY" "$here/bench_convert_prepare.py" "$W/VisA" "$W/VisA/split_csv/1cls.csv" "$W/vp")
t_vp=$(best "$C" --to visa-prepared -o "$W/vp" "$W/VisA")
t_vp_nv=$(best "$C" --to visa-prepared --no-verify -o "$W/vp" "$W/VisA")
line "python prepare_data equivalent" "$t_py" ""
line "mirad-convert --to visa-prepared" "$t_vp" "$(ratio "$t_py" "$t_vp")x faster (target >= 3)"
line "mirad-convert --to visa-prepared --no-verify" "$t_vp_nv" "$(ratio "$t_py" "$t_vp_nv")x faster"
desc="VisA raw, 3 classes ($njpg JPG, $nmask masks, --image-scale $visa_iscale) -> visa-prepared 1cls"
alt="python prepare_data equivalent"
bench_row convert "mirad-convert --to visa-prepared" "$desc" "$t_vp" "$alt" "$t_py" "best of $runs; the script is one process, mirad-convert one thread per core ($(nproc)); target: ratio >= 3; below it: the profile in tests/bench/README.md"
bench_row convert "mirad-convert --to visa-prepared --no-verify" "$desc" "$t_vp_nv" "$alt" "$t_py" "best of $runs"

# (c) ---------------------------------------------------------------------
# A tenth of the MIRAD counts at about 800 px.
iscale=${BENCH_IMAGE_SCALE:-8}
"$B/tests/mirad-gen-sample" -o "$W/MIRAD800" --scale "$(awk -v s="$scale" 'BEGIN { print 0.1 * s }')" \
	--image-scale "$iscale" --seed 2
npng=$(find "$W/MIRAD800" -name '*.png' | wc -l)
echo
echo "(c) MIRAD sample at ~${iscale}00 px: $npng PNG files, $(du -sh "$W/MIRAD800" | cut -f1)"
cat "$W"/MIRAD800/*/*/*/* >/dev/null
OUTDIR=$W/r
for n in 64 256; do
	t_pil=$(best "$PY" "$here/bench_convert_resize.py" "$W/MIRAD800" "$W/r" $n)
	t_rs=$(best "$C" --to mvtec --resize $n -o "$W/r" "$W/MIRAD800")
	line "PIL resize script (LANCZOS / NEAREST) to $n" "$t_pil" ""
	line "mirad-convert --to mvtec --resize $n" "$t_rs" "$(ratio "$t_pil" "$t_rs")x faster (target >= 3)"
	bench_row convert "mirad-convert --to mvtec --resize $n" "MIRAD ($npng PNG files of ~${iscale}00 px) -> MVTec ${n}x$n" \
		"$t_rs" "PIL resize script (LANCZOS / NEAREST)" "$t_pil" "best of $runs; the script is one process, mirad-convert one thread per core ($(nproc)); target: ratio >= 3; below it: the profile in tests/bench/README.md"
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (shared: timings are noisy)"
