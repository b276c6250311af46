#!/bin/sh
# SPDX-License-Identifier: MIT
# Hostile inputs through every tool that reads images:
# - a FIFO and a device (/dev/zero) among the images, masks and maps are
#   reported as "not a regular file" at once and the rest is processed
#   (they used to hang the tools, uninterruptibly);
# - a tool blocked on its input ends by SIGTERM with the signal's status,
#   publishing nothing and leaving no lock or temporary folder;
# - a CMYK JPEG is converted to sRGB (not a colour negative), a JPEG named
#   .png is re-encoded to PNG, a BMP is reported as not supported;
# - file names are printed with control characters escaped, and decode
#   errors say "truncated PNG" with the path as given, not libvips' words.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

HOSTILE=$MIRAD_SRCDIR/tests/cli/make_hostile_inputs.py

# run_bounded CMD...: like run, but a tool still running after 30 s (a
# hang: the ones tested take well under a second) is killed, rc=hang.
run_bounded() {
	rc=0
	$RUN "$@" >"$T/out" 2>"$T/err" </dev/null &
	_pid=$!
	_n=0
	while kill -0 "$_pid" 2>/dev/null; do
		_n=$((_n + 1))
		if [ "$_n" -ge 3000 ]; then
			kill -KILL "$_pid" 2>/dev/null
			wait "$_pid" 2>/dev/null
			rc=hang
			return
		fi
		sleep 0.01
	done
	wait "$_pid" || rc=$?
}
expect_rc() {
	if [ "$rc" = "$2" ]; then ok "$1"; else
		not_ok "$1 (status $rc, expected $2)"; diag "$T/err"; fi
}

# ---- FIFOs and devices ------------------------------------------------
"$GEN" -o "$T/fd" --scale 0.03 --seed 2 --categories chain_buckle
"$PY" "$MIRAD_SRCDIR/tests/cli/make_bad_images.py" maps "$T/fd" "$T/maps"
"$BIN/mirad-split" "$T/fd" >"$T/fd.jsonl"
G=$T/fd/chain_buckle
mkfifo "$G/train/good/fifo.png"
ln -s /dev/zero "$G/train/good/zero.png"
rm "$G/ground_truth/anomaly/001_mask.png"
mkfifo "$G/ground_truth/anomaly/001_mask.png"
rm "$T/maps/chain_buckle/test/good/000.png" "$T/maps/chain_buckle/test/anomaly/000.png"
mkfifo "$T/maps/chain_buckle/test/good/000.png"
ln -s /dev/zero "$T/maps/chain_buckle/test/anomaly/000.png"

cd "$T" || exit 1
run_bounded "$BIN/mirad-split" fd
expect_rc "mirad-split: FIFO and device reported, exit 1" 1
expect_grep "mirad-split names the FIFO" "^mirad-split: fd/chain_buckle/train/good/fifo.png: unreadable image: not a regular file\$" "$T/err"
expect_grep "mirad-split names the device" "fd/chain_buckle/train/good/zero.png: unreadable image: not a regular file\$" "$T/err"
expect_grep "mirad-split names the FIFO mask" "fd/chain_buckle/ground_truth/anomaly/001_mask.png: unreadable mask: not a regular file\$" "$T/err"
expect_grep "mirad-split lists the other images" '"image":"chain_buckle/train/good/005.png"' "$T/out"

# The same records, with a FIFO and /dev/zero given by a manifest.
"$PY" - "$T/fd.jsonl" "$T/fd/chain_buckle/train/good/fifo.png" >"$T/bad.jsonl" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
train = [r for r in lines if r["split"] == "train"][0]
for path in (sys.argv[2], "/dev/zero"):
    r = dict(train, image=path)
    r.pop("width", None); r.pop("height", None)
    lines.append(r)
for r in lines:
    print(json.dumps(r))
PYEOF

run_bounded "$BIN/mirad-stats" --all bad.jsonl
expect_rc "mirad-stats --all: FIFO and device reported, exit 1" 1
expect_grep "mirad-stats names the FIFO" "train/good/fifo.png: not a regular file\$" "$T/err"
expect_grep "mirad-stats names /dev/zero" "^mirad-stats: /dev/zero: not a regular file\$" "$T/err"
expect_grep "mirad-stats names the FIFO mask" "ground_truth/anomaly/001_mask.png: not a regular file\$" "$T/err"

run_bounded "$BIN/mirad-convert" --to mvtec -o cv bad.jsonl
expect_rc "mirad-convert: FIFO and device reported, exit 1" 1
expect_grep "mirad-convert names the FIFO" "train/good/fifo.png: not a regular file\$" "$T/err"
expect_grep "mirad-convert names /dev/zero" "^mirad-convert: /dev/zero: not a regular file\$" "$T/err"
expect_grep "mirad-convert names the FIFO mask" "ground_truth/anomaly/001_mask.png: not a regular file\$" "$T/err"
expect_eq "mirad-convert writes the other train images" "$(ls cv/chain_buckle/train/good | wc -l)" 6

run_bounded "$BIN/mirad-augment" -q --profile node4 -o au fd
expect_rc "mirad-augment: FIFOs and device reported, exit 1" 1
expect_grep "mirad-augment names the FIFO" "train/good/fifo.png: not a regular file; skipped\$" "$T/err"
expect_grep "mirad-augment names the device" "train/good/zero.png: not a regular file; skipped\$" "$T/err"
check "mirad-augment writes the other train images" test -f au/chain_buckle/train/good/005.png

run_bounded "$BIN/mirad-eval" --gt fd --maps maps
expect_rc "mirad-eval: FIFO map, device map and FIFO mask reported, exit 1" 1
# A map is looked up among regular files: the FIFO and the device are
# not taken for one.
expect_grep "mirad-eval reports the image whose map is a FIFO" "maps/chain_buckle/test/good/000(\.png)?: " "$T/err"
expect_grep "mirad-eval reports the image whose map is a device" "maps/chain_buckle/test/anomaly/000(\.png)?: " "$T/err"
expect_grep "mirad-eval names the FIFO mask" "ground_truth/anomaly/001_mask.png: not a regular file" "$T/err"
expect_grep "mirad-eval evaluates the other images" '^\| chain_buckle \| 3 \| ' "$T/out"

run_bounded "$BIN/mirad-fetch" --no-progress --verify fd --check-sizes
expect_rc "mirad-fetch --verify --check-sizes: FIFO and device reported, exit 1" 1
expect_grep "mirad-fetch names the FIFO" "fd/chain_buckle/train/good/fifo.png: unreadable image: not a regular file\$" "$T/err"
expect_grep "mirad-fetch names the device" "fd/chain_buckle/train/good/zero.png: unreadable image: not a regular file\$" "$T/err"

# ---- interruptible ------------------------------------------------------
# Each tool reads a manifest from a FIFO that stays open after two lines:
# once the tool is blocked reading it (its main thread waits in a system
# call on descriptor 0, per /proc), SIGTERM must end it with the signal's
# status, publishing nothing and leaving no lock or temporary folder.
blocked_on_stdin() {
	[ -r "/proc/$1/syscall" ] || return 0
	read -r _nr _fd _rest <"/proc/$1/syscall" 2>/dev/null || return 0
	[ "$_fd" = 0x0 ] && [ "$_nr" != running ] &&
		[ "$(cut -d' ' -f3 "/proc/$1/stat")" = S ]
}
for cmd in "mirad-split -" "mirad-stats --all -" "mirad-convert --to mvtec -o pub -" \
	"mirad-augment -q --profile node4 -o pub -" "mirad-eval --maps maps --gt - -o pub"; do
	tool=${cmd%% *}
	rm -f in.fifo
	mkfifo in.fifo
	# shellcheck disable=SC2086
	$RUN $BIN/$cmd <in.fifo >"$T/out" 2>"$T/err" &
	pid=$!
	exec 7>in.fifo
	head -2 fd.jsonl >&7
	wait_for blocked_on_stdin "$pid"
	kill -TERM "$pid"
	n=0
	while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 3000 ]; do
		n=$((n + 1)); sleep 0.01
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"; wait "$pid"; rc=hang
	else
		rc=0; wait "$pid" || rc=$?
	fi
	exec 7>&-
	expect_rc "$tool ends by SIGTERM while reading its input" 143
	check "$tool publishes nothing" test ! -e pub
	expect_eq "$tool leaves no lock or temporary folder" "$(ls -A | grep '^\.pub' | tr '\n' ' ')" ""
done

# ---- CMYK, a JPEG named .png, BMP, control characters, decode errors -------
"$GEN" -o "$T/hd" --scale 0.01 --seed 2 --categories chain_buckle
"$PY" "$HOSTILE" make "$T/hd/chain_buckle/train/good"
evil='hd/chain_buckle/train/good/evil\\x0aname\\x1b\[31m\.png'
empty='hd/chain_buckle/train/good/empty\\x1b\[2J\\x0a\.png'
bmp='hd/chain_buckle/train/good/bitmap\.bmp: (unreadable image: )?BMP is not supported: convert it to PNG first'
esc=$(printf '\033')

check_messages() {
	expect_grep "$1: the BMP is reported as not supported" "$bmp(; skipped)?\$" "$T/err"
	expect_grep "$1: the truncated PNG is named, escaped, with a short reason" "$evil: (unreadable image: )?truncated PNG" "$T/err"
	expect_grep "$1: the empty file is named, escaped" "$empty: (unreadable image: )?empty file" "$T/err"
	expect_no_grep "$1: no raw ESC in the messages" "$esc" "$T/err"
	expect_no_grep "$1: no libvips words in the messages" "vipspng|VipsForeignLoad|magickload" "$T/err"
	expect_eq "$1: one message line per problem" "$(grep -vc "^$2: " "$T/err")" 0
	expect_no_grep "$1: the user's relative path, not the absolute one" "$T/hd" "$T/err"
}

run_bounded "$BIN/mirad-split" hd
expect_rc "mirad-split reports the bad files" 1
check_messages mirad-split mirad-split
expect_grep "mirad-split: the CMYK JPEG has 3 channels" '"image":"chain_buckle/train/good/cmyk.jpg".*"channels":3' "$T/out"

run_bounded "$BIN/mirad-fetch" --no-progress --verify hd --check-sizes
expect_rc "mirad-fetch --verify reports the bad files" 1
check_messages mirad-fetch mirad-fetch

run_bounded "$BIN/mirad-stats" --all hd
expect_rc "mirad-stats --all reports the bad files" 1
check_messages mirad-stats mirad-stats

run_bounded "$BIN/mirad-convert" --to mvtec -o hcv hd
expect_rc "mirad-convert reports the bad files" 1
check_messages mirad-convert mirad-convert
check "mirad-convert: CMYK converted to sRGB red, the JPEG named .png written as PNG" \
	"$PY" "$HOSTILE" check hcv

run_bounded "$BIN/mirad-convert" --to mirad -o hcv2 hd
expect_rc "mirad-convert --to mirad reports the bad files" 1
check "mirad-convert --to mirad: CMYK converted, the JPEG named .png re-encoded" \
	"$PY" "$HOSTILE" check hcv2

run_bounded "$BIN/mirad-augment" -q --profile node4 -o hau hd
expect_rc "mirad-augment reports the bad files" 1
check_messages mirad-augment mirad-augment
check "mirad-augment: CMYK read as red, not as its colour negative" \
	"$PY" "$HOSTILE" check hau

done_testing
