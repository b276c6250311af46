#!/bin/sh
# SPDX-License-Identifier: MIT
# Reliability of mirad-fetch: SIGKILL at exact bytes of a
# download and in the middle of unpacking, then a rerun that equals an
# uninterrupted run and leaves nothing behind; SIGINT keeps a resumable
# .part; a file-size limit (a full disk) while downloading and while
# unpacking is a clean error that keeps the previous tree; a second run on
# a target that a first run is working on is refused.  Offline: the test
# server listens on 127.0.0.1 only.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python
F="$BIN/mirad-fetch --no-progress"

size_is() { [ "$(size_of "$1")" -eq "$2" ]; }
size_over() { [ "$(size_of "$1")" -gt "$2" ]; }
# leftovers NAME: what lies next to $T/NAME besides NAME itself (the
# .part, the lock, temporary folders), on one line.
leftovers() {
	ls -A "$T" | grep -E "^(\\.$1\\.|$1\\.part\$)" | sed 's/tmp-.*/tmp-*/' |
		sort | tr '\n' ' ' | sed 's/ $//'
}
# blocks BYTES: the ulimit -f value for BYTES (dash counts 512-byte
# blocks, bash 1024-byte ones).
ublk=$( (ulimit -f 1; trap '' XFSZ; head -c 4096 /dev/zero >"$T/ublk" 2>/dev/null)
	size_of "$T/ublk")
blocks() { echo $(($1 / ublk)); }
# same_tree DESC REF DIR
same_tree() {
	if diff -r "$2" "$3" >"$T/diff" 2>&1; then ok "$1"; else
		not_ok "$1"; diag "$T/diff"; fi
}

mkdir -p "$T/srv"
fixture sample.tar.gz "$T/srv/s.tar.gz"
size=$(size_of "$T/srv/s.tar.gz")
check "the sample archive is big enough to cut in five" test "$size" -gt 20000

$PY "$MIRAD_SRCDIR/tests/cli/fetch_server.py" --root "$T/srv" >"$T/port" 2>"$T/server.err" &
srvpid=$!
trap 'kill $srvpid 2>/dev/null; rm -rf "$T"' EXIT
wait_for test -s "$T/port"
U=http://127.0.0.1:$(head -1 "$T/port")
serverlog() { $PY -c "import sys,urllib.request;sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())" "$U/log"; }

# The reference: one uninterrupted download.
run $F --url "$U/ok/s.tar.gz" -o "$T/ref"
expect_status "the uninterrupted download exits 0" 0

# ---- SIGKILL at three byte points of the download ---------------------------
# /stallatN stops sending after byte N of the file, and MIRAD_TEST_STOP_AT
# makes the run stop itself once its .part holds N bytes (mirad(7)): the
# kill lands at an exact, known point.  Each run resumes what the previous
# one left.
prev=0
for n in $((size / 5)) $((size / 2)) $((size * 4 / 5)); do
	MIRAD_TEST_STOP_AT=downloading:$n $F --url "$U/stallat$n/s.tar.gz" \
		-o "$T/dl" >/dev/null 2>"$T/kill.err" &
	pid=$!
	if wait_stopped "$pid" && size_is "$T/dl.part" "$n"; then
		ok "the download stopped at byte $n"
	else
		not_ok "the download stopped at byte $n ($(size_of "$T/dl.part") bytes)"
		diag "$T/kill.err"
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	expect_eq "SIGKILL at byte $n: the .part holds exactly the bytes received" \
		"$(size_of "$T/dl.part")" "$n"
	check "SIGKILL at byte $n: no tree under the target name" test ! -e "$T/dl"
	expect_eq "SIGKILL at byte $n: only the .part and the lock file are left" \
		"$(leftovers dl)" ".dl.lock dl.part"
	if [ "$prev" -gt 0 ]; then
		serverlog >"$T/log"
		expect_grep "the run killed at byte $n had resumed at byte $prev" \
			"^GET /stallat$n/s.tar.gz bytes=$prev-\$" "$T/log"
	fi
	prev=$n
done
run $F --url "$U/ok/s.tar.gz" -o "$T/dl"
expect_status "the rerun after three kills exits 0" 0
expect_grep "the rerun says where it resumed" "resumed .*dl.part at byte $prev\$" "$T/err"
serverlog >"$T/log"
expect_grep "the server saw a Range request at the last kill point" \
	"^GET /ok/s.tar.gz bytes=$prev-\$" "$T/log"
same_tree "the resumed download unpacks to the uninterrupted run's tree" "$T/ref" "$T/dl"
expect_eq "nothing is left beside the target after the rerun" "$(leftovers dl)" ""

# ---- SIGINT during the download: a resumable .part, nothing else ----------
n=$((size / 3))
MIRAD_TEST_STOP_AT=downloading:$n $F --url "$U/stallat$n/s.tar.gz" \
	-o "$T/int" >/dev/null 2>"$T/int.err" &
pid=$!
check "the download stopped at byte $n" wait_stopped "$pid"
kill -INT "$pid"
kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
expect_status "SIGINT during the download ends with 130" 130
expect_grep "SIGINT: the message says the partial download is kept" \
	"interrupted \(the partial download .*int.part is kept\)" "$T/int.err"
expect_eq "SIGINT: the .part holds the bytes received" "$(size_of "$T/int.part")" "$n"
expect_eq "SIGINT: no lock file and no temporary folder are left" "$(leftovers int)" "int.part"
run $F --url "$U/ok/s.tar.gz" -o "$T/int"
expect_status "the run after SIGINT exits 0" 0
expect_grep "it resumed at the interrupted byte" "at byte $n\$" "$T/err"
same_tree "the tree after SIGINT and a rerun equals the uninterrupted run's" "$T/ref" "$T/int"
expect_eq "nothing is left after the rerun" "$(leftovers int)" ""

# ---- a second run while the first one downloads -------------------------------
# The first run stops itself after its first bytes, holding the lock; the
# second run must be refused without touching anything; then the first
# one goes on.
MIRAD_TEST_STOP_AT=downloading:1 $F --url "$U/ok/s.tar.gz" -o "$T/cc" >/dev/null 2>"$T/cc.err" &
pid=$!
check "the first run stopped while downloading" wait_stopped "$pid"
run $F --url "$U/ok/s.tar.gz" -o "$T/cc"
expect_status "a second run on a target being fetched exits 3" 3
expect_grep "it says another run is working on the target" \
	"cc: another mirad-fetch is working on it" "$T/err"
check "the first run was at work then (its .part exists)" test -e "$T/cc.part"
kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
expect_status "the first run completes (exit 0)" 0
if diff -r -x .mirad-fetch.json "$T/ref" "$T/cc" >"$T/diff" 2>&1; then
	ok "the first run's tree equals a single run's"
else
	not_ok "the first run's tree differs"; diag "$T/diff"
fi
expect_eq "the first run's marker records the same archive hash" \
	"$(grep '"sha256"' "$T/cc/.mirad-fetch.json")" "$(grep '"sha256"' "$T/ref/.mirad-fetch.json")"
expect_eq "nothing is left beside the target" "$(leftovers cc)" ""

# ---- SIGKILL while unpacking --------------------------------------------------
# The archive starts with an 8 MiB file of zeros (after the top folder).
# MIRAD_TEST_STOP_AT=unpacking:N stops the run once N bytes are unpacked
# (mirad(7)): at the first block, and half-way through that file.
mkdir -p "$T/bigsrc"
tar -xzf "$T/srv/s.tar.gz" -C "$T/bigsrc"
pad=8388608
truncate -s $pad "$T/bigsrc/sample/pad.bin"
(cd "$T/bigsrc" && tar --no-recursion -cf - sample sample/pad.bin \
	$(find sample -mindepth 1 ! -name pad.bin | sort) | gzip -1 >"$T/big.tar.gz")
rm -rf "$T/bigsrc"
BIGF="$F --max-ratio 1000000 --archive $T/big.tar.gz"
run $BIGF -o "$T/bigref"
expect_status "the uninterrupted unpack exits 0" 0
for want in 1 $((pad / 2)); do
	MIRAD_TEST_STOP_AT=unpacking:$want $BIGF -o "$T/big" >/dev/null 2>&1 &
	pid=$!
	check "the unpack stopped after $want bytes" wait_stopped "$pid"
	set -- "$T"/.big.tmp-*/sample/pad.bin
	got=$(size_of "$1")
	if [ "$got" -ge "$want" ] && [ "$got" -lt $pad ]; then
		ok "caught while unpacking ($got of $pad bytes written)"
	else
		not_ok "caught while unpacking ($got of $pad bytes written)"
	fi
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	check "SIGKILL while unpacking: no tree under the target name" test ! -e "$T/big"
	expect_eq "SIGKILL while unpacking: the temporary folder and the lock file are left" \
		"$(leftovers big)" ".big.lock .big.tmp-*"
	run $BIGF -o "$T/big"
	expect_status "the rerun after SIGKILL while unpacking exits 0" 0
	expect_grep "the rerun removes the killed run's temporary folder" \
		"big: removed 1 temporary folder\(s\) left by an interrupted run" "$T/err"
	same_tree "the rerun's tree equals the uninterrupted run's" "$T/bigref" "$T/big"
	expect_eq "nothing is left beside the target after the rerun" "$(leftovers big)" ""
	rm -rf "$T/big"
done
rm -rf "$T/bigref" "$T/big.tar.gz"

# ---- a file-size limit (a full disk) --------------------------------------------
# ulimit -f in a subshell; the tool ignores SIGXFSZ, so writes fail with
# EFBIG.  The previous tree (from the reference run) must stay as it was.
cp -r "$T/ref" "$T/full"
rc=0
lim=$(blocks 20480)
(ulimit -f "$lim"; exec $F --url "$U/ok/s.tar.gz" --force -o "$T/full") >/dev/null 2>"$T/err" || rc=$?
expect_status "a download over the file-size limit is fatal (3)" 3
expect_grep "the error names the .part and the reason" "full.part: File too large" "$T/err"
expect_eq "the error is one line" "$(wc -l <"$T/err")" 1
same_tree "the previous tree is intact" "$T/ref" "$T/full"
expect_eq "only the partial download is left (for the next run to resume)" \
	"$(leftovers full)" "full.part"
run $F --url "$U/ok/s.tar.gz" --force -o "$T/full"
expect_status "without the limit the download resumes and exits 0" 0
expect_grep "it resumes at the limit" "at byte 20480\$" "$T/err"
same_tree "the tree equals the uninterrupted run's" "$T/ref" "$T/full"
expect_eq "nothing is left" "$(leftovers full)" ""

# An entry larger than the limit while unpacking a local archive.
mkdir -p "$T/padsrc"
tar -xzf "$T/srv/s.tar.gz" -C "$T/padsrc"
head -c 1048576 /dev/urandom >"$T/padsrc/sample/pad.bin"
(cd "$T/padsrc" && tar -czf "$T/pad.tar.gz" sample)
run $F --archive "$T/pad.tar.gz" -o "$T/padded"
expect_status "the archive with a 1 MiB entry unpacks" 0
cp -r "$T/padded" "$T/padded.before"
rc=0
lim=$(blocks 524288)
(ulimit -f "$lim"; exec $F --archive "$T/pad.tar.gz" --force -o "$T/padded") >/dev/null 2>"$T/err" || rc=$?
expect_status "unpacking an entry over the file-size limit is fatal (3)" 3
expect_grep "the error names the archive, the entry and the reason" \
	"pad.tar.gz: sample/pad.bin: .*File too large" "$T/err"
same_tree "the previous tree is intact" "$T/padded.before" "$T/padded"
expect_eq "no temporary folder and no lock file are left" "$(leftovers padded)" ""

kill $srvpid 2>/dev/null
done_testing
