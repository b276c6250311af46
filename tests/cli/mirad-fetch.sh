# SPDX-License-Identifier: MIT
# Black-box tests of mirad-fetch: options, the round trip of the sample
# generator's archives, the malicious/broken archive corpus, downloads from
# a local test server (resume, retries, Drive flow, quota and HTML pages,
# hash mismatch), --verify, the lock and interrupts.  Offline: the server
# listens on 127.0.0.1 only.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
need_python

F=$BIN/mirad-fetch
FETCH="$F --no-progress"

common_cli_checks mirad-fetch

# ---- usage -------------------------------------------------------------------
run $F
expect_status "no -o and no --verify is a usage error" 2
expect_grep "it says what is missing" "no output folder" "$T/err"
run $F -o "$T/x"
expect_status "nothing to fetch is a usage error" 2
expect_grep "it names the sources" "give --dataset, --url or --archive" "$T/err"
run $F --url http://127.0.0.1:1/a --archive a.tar -o "$T/x"
expect_status "--url with --archive is a usage error" 2
run $F --dataset imagenet -o "$T/x"
expect_status "unknown dataset is a usage error" 2
expect_grep "it lists the known datasets" "unknown dataset 'imagenet' \(mirad, visa, mvtec-ad\)" "$T/err"
run $F --sha256 abc --archive a.tar -o "$T/x"
expect_status "a short --sha256 is a usage error" 2
expect_grep "it says what a digest is" "not 64 hexadecimal digits" "$T/err"
run $F --max-bytes 12Q --archive a.tar -o "$T/x"
expect_status "a bad size suffix is a usage error" 2
run $F --verify "$T" -o "$T/x"
expect_status "--verify with -o is a usage error" 2

# ---- round trips: generator archive -> mirad-fetch -> mirad-stats ---------
mkdir -p "$T/gen"
fixture sample "$T/gen/sample"
fixture sample.tar.gz "$T/sample.tar.gz"
"$GEN" -o "$T/gen/zsample" --scale 0.05 --seed 2 --archive "$T/sample.zip" >/dev/null 2>&1
"$GEN" -o "$T/gen/mvtec" --scale 0.05 --layout mvtec --archive "$T/mvtec.tar.xz" >/dev/null 2>&1
"$BIN/mirad-stats" "$T/gen/sample" >"$T/stats.gen" 2>/dev/null
"$BIN/mirad-stats" "$T/gen/zsample" >"$T/stats.zgen" 2>/dev/null
"$BIN/mirad-stats" "$T/gen/mvtec" >"$T/stats.mgen" 2>/dev/null

run $FETCH --archive "$T/sample.tar.gz" -o "$T/rt_tgz"
expect_status "tar.gz round trip exits 0" 0
"$BIN/mirad-stats" "$T/rt_tgz" >"$T/stats.rt" 2>/dev/null
expect_same "tar.gz round trip: mirad-stats counts equal the generator's" "$T/stats.gen" "$T/stats.rt"
expect_grep "the report names the layout" "^layout: mirad$" "$T/out"
expect_grep "the report counts the images" "^images: [0-9]+ \(train [0-9]+, test normal [0-9]+, test abnormal [0-9]+\)$" "$T/out"
expect_grep "an unpinned archive prints its SHA-256" "sha256 $(sha256sum "$T/sample.tar.gz" | cut -c1-64) \(not pinned" "$T/err"
expect_grep "the completion marker records the hash" "\"sha256\":[[:space:]]*\"$(sha256sum "$T/sample.tar.gz" | cut -c1-64)\"" "$T/rt_tgz/.mirad-fetch.json"
check "the published tree is not left at mode 0700" test "$(stat -c %a "$T/rt_tgz")" != 700
check "no temporary folder is left after success" test -z "$(ls -A "$T" | grep '^\.rt_tgz\.')"
check "nodes.csv at the root survives" test -f "$T/rt_tgz/nodes.csv"
cmp -s "$T/gen/sample/building_block/train/good/000.png" "$T/rt_tgz/building_block/train/good/000.png"
check "unpacked images are byte-identical" test $? -eq 0

run $FETCH --archive "$T/sample.zip" -o "$T/rt_zip"
expect_status "zip round trip exits 0" 0
"$BIN/mirad-stats" "$T/rt_zip" >"$T/stats.rtz" 2>/dev/null
expect_same "zip round trip: mirad-stats counts equal the generator's" "$T/stats.zgen" "$T/stats.rtz"

run $FETCH --archive "$T/mvtec.tar.xz" -o "$T/rt_mvtec"
expect_status "MVTec-layout tar.xz round trip exits 0" 0
"$BIN/mirad-stats" "$T/rt_mvtec" >"$T/stats.rtm" 2>/dev/null
expect_same "tar.xz round trip: mirad-stats counts equal the generator's" "$T/stats.mgen" "$T/stats.rtm"
expect_grep "the MVTec layout is recognised" "^layout: mvtec$" "$T/out"

# A zip made on macOS: the tree plus __MACOSX; the parent of -o is created.
mkdir -p "$T/mac/__MACOSX/sample" "$T/mac/sample"
cp -r "$T/gen/zsample/." "$T/mac/sample/"
echo fork >"$T/mac/__MACOSX/sample/._nodes.csv"
(cd "$T/mac" && zip -qr "$T/mac.zip" sample __MACOSX)
run $FETCH --archive "$T/mac.zip" -o "$T/new/parent/mac"
expect_status "a zip with __MACOSX beside the tree exits 0" 0
"$BIN/mirad-stats" "$T/new/parent/mac" >"$T/stats.mac" 2>/dev/null
expect_same "the tree under the top folder is published" "$T/stats.zgen" "$T/stats.mac"
check "__MACOSX is not published" test ! -e "$T/new/parent/mac/__MACOSX"

# Pins.
sum=$(sha256sum "$T/sample.tar.gz" | cut -c1-64)
upper=$(printf '%s' "$sum" | tr a-f A-F)
run $FETCH --archive "$T/sample.tar.gz" --sha256 "$upper" --size "$(stat -c %s "$T/sample.tar.gz")" -o "$T/pinned"
expect_status "a matching --sha256 (upper case) and --size exit 0" 0
expect_grep "a matching pin is reported as verified" "sha256 $sum verified" "$T/err"
bad=0000000000000000000000000000000000000000000000000000000000000000
run $FETCH --archive "$T/sample.tar.gz" --sha256 $bad -o "$T/badpin"
expect_status "a wrong --sha256 exits 3" 3
expect_grep "the mismatch names both hashes" "SHA-256 mismatch: expected $bad, got $sum" "$T/err"
check "a hash mismatch publishes nothing" test ! -e "$T/badpin"
check "a hash mismatch leaves no temporary folder" test -z "$(ls -A "$T" | grep '^\.badpin\.tmp')"
run $FETCH --archive "$T/sample.tar.gz" --size 12345 -o "$T/badsize"
expect_status "a wrong --size exits 3" 3
expect_grep "the size mismatch gives both sizes" "$(stat -c %s "$T/sample.tar.gz") bytes, expected 12345" "$T/err"

# An existing target.
run $FETCH --archive "$T/sample.zip" -o "$T/rt_tgz"
expect_status "an existing target without --force exits 3" 3
expect_grep "it suggests --force" "already exists \(use --force" "$T/err"
"$BIN/mirad-stats" "$T/rt_tgz" >"$T/stats.rt2" 2>/dev/null
expect_same "the existing tree is unchanged" "$T/stats.rt" "$T/stats.rt2"
run $FETCH --force --archive "$T/sample.zip" -o "$T/rt_tgz"
expect_status "--force replaces an existing tree" 0
"$BIN/mirad-stats" "$T/rt_tgz" >"$T/stats.rt3" 2>/dev/null
expect_same "the replaced tree has the new archive's counts" "$T/stats.zgen" "$T/stats.rt3"
check "no old tree is left beside it" test -z "$(ls -A "$T" | grep '^\.rt_tgz\.')"

# Limits (counted from the data written).
run $FETCH --archive "$T/sample.tar.gz" --max-bytes 10K -o "$T/lim1"
expect_status "--max-bytes stops a larger tree" 3
expect_grep "it names the option to raise" "expands to more than 10240 bytes \(raise the limit with --max-bytes\)" "$T/err"
run $FETCH --archive "$T/sample.tar.gz" --max-entries 5 -o "$T/lim2"
expect_status "--max-entries stops a larger archive" 3
expect_grep "it names --max-entries" "more than 5 entries" "$T/err"
run $FETCH --archive "$T/sample.tar.gz" --max-entry-bytes 100 -o "$T/lim3"
expect_status "--max-entry-bytes stops a larger file" 3
expect_grep "it names --max-entry-bytes" "the per-file limit" "$T/err"
check "no limit run published anything" test ! -e "$T/lim1" -a ! -e "$T/lim2" -a ! -e "$T/lim3"

# A file that is no dataset.
mkdir -p "$T/notds/top/a"
echo hello >"$T/notds/top/a/readme.txt"
(cd "$T/notds" && tar -czf "$T/notds.tar.gz" top)
run $FETCH --archive "$T/notds.tar.gz" -o "$T/notds_out"
expect_status "an archive without a dataset exits 3" 3
expect_grep "it says nothing was published" "nothing was published" "$T/err"
check "no tree for an archive without a dataset" test ! -e "$T/notds_out"

# ---- the malicious and broken corpus ------------------------------------------
mkdir -p "$T/corpus" "$T/outside"
echo canary >"$T/outside/canary.txt"
$PY "$MIRAD_SRCDIR/tests/cli/fetch_corpus.py" "$T/corpus" "$T/outside" >"$T/corpus.list"
check "the corpus generator ran" test -s "$T/corpus.list"
(cd "$T/outside" && ls -lA --time-style=+%s . && sha256sum canary.txt) >"$T/outside.before"
mkdir -p "$T/victim"
cp -r "$T/rt_zip/." "$T/victim/"
(cd "$T/victim" && find . -type f | sort | xargs sha256sum) >"$T/victim.before"
tab=$(printf '\t')
while IFS="$tab" read -r name regex; do
	rm -rf "$T/evil"
	run $FETCH --archive "$T/corpus/$name" -o "$T/evil"
	expect_status "$name: refused with status 3" 3
	expect_grep "$name: the message names the problem" "$regex" "$T/err"
	check "$name: no target was published" test ! -e "$T/evil"
	check "$name: the temporary folder was removed" test -z "$(ls -A "$T" | grep '^\.evil\.')"
	# The same archive over an existing tree leaves it as it was.
	run $FETCH --force --archive "$T/corpus/$name" -o "$T/victim"
	(cd "$T/victim" && find . -type f | sort | xargs sha256sum) >"$T/victim.after"
	if [ "$rc" -eq 3 ] && cmp -s "$T/victim.before" "$T/victim.after"; then
		ok "$name: an existing target is unchanged"
	else
		not_ok "$name: an existing target is unchanged (status $rc)"
	fi
done <"$T/corpus.list"
(cd "$T/outside" && ls -lA --time-style=+%s . && sha256sum canary.txt) >"$T/outside.after"
expect_same "nothing outside the temporary area was touched" "$T/outside.before" "$T/outside.after"
check "no escaped file exists anywhere under the test folder" \
	test -z "$(find "$T" \( -name 'escape*.txt' -o -name pwned.txt -o -name abs.txt -o -name h2 \) -print)"
run $FETCH --max-ratio 100000 --max-bytes 1M --archive "$T/corpus/bomb.zip" -o "$T/evil"
expect_status "with a raised ratio the byte limit still stops the bomb" 3
expect_grep "the byte limit message" "more than 1048576 bytes" "$T/err"

# Ctrl-C during unpacking: status 130, no tree, no temporary folder.  The
# run stops itself after 1 MiB of the 4 MiB entry (MIRAD_TEST_STOP_AT,
# mirad(7)), takes the SIGINT and goes on.
truncate -s 4M "$T/corpus/zeros.img"
(cd "$T/corpus" && tar -cf - zeros.img | gzip -1 >"$T/corpus/slow.tar.gz")
rm -f "$T/corpus/zeros.img"
MIRAD_TEST_STOP_AT=unpacking:1048576 $FETCH --max-ratio 1000000 \
	--archive "$T/corpus/slow.tar.gz" -o "$T/slow" >/dev/null 2>"$T/slow.err" &
fpid=$!
check "the unpack stopped after 1 MiB" wait_stopped "$fpid"
kill -INT "$fpid"
kill -CONT "$fpid"
rc=0
wait "$fpid" || rc=$?
expect_status "Ctrl-C during unpacking ends with 130" 130
check "no tree after an interrupted unpack" test ! -e "$T/slow"
check "no temporary folder after an interrupted unpack" test -z "$(ls -A "$T" | grep '^\.slow\.')"
rm -f "$T/corpus/slow.tar.gz"

# ---- --verify ------------------------------------------------------------------------
run $FETCH --verify "$T/rt_zip"
expect_status "--verify on a good tree exits 0" 0
expect_grep "--verify prints the report" "^problems: 0$" "$T/out"
run $FETCH --verify "$T/rt_zip" --dataset mirad
expect_status "--verify against the MIRAD catalogue: counts differ, exit 1" 1
expect_grep "the report says the counts differ" "^catalogue: counts differ from the catalogue$" "$T/out"
expect_grep "each row shows the expected counts" "^\| building_block \| [0-9]+ \| [0-9]+ \| [0-9]+ \| 262/57/158 \| differs \|$" "$T/out"
cp -r "$T/rt_zip" "$T/broken"
rm -f "$T/broken/chain_buckle/ground_truth/anomaly/000_mask.png"
run $FETCH --verify "$T/broken"
expect_status "--verify on a tree with a missing mask exits 1" 1
expect_grep "the missing mask is reported" "chain_buckle/test/anomaly/000.png: anomaly without a mask" "$T/err"
expect_grep "the report counts the problem" "^problems: 1$" "$T/out"
cp -r "$T/rt_zip" "$T/badmask"
"$GEN" -o "$T/gen/big" --scale 0.01 --image-scale 2 --categories chain_buckle >/dev/null 2>&1
cp "$T/gen/big/chain_buckle/ground_truth/anomaly/000_mask.png" "$T/badmask/chain_buckle/ground_truth/anomaly/000_mask.png"
run $FETCH --verify "$T/badmask"
expect_status "without --check-sizes a mask of the wrong size is not looked at" 0
run $FETCH --check-sizes --verify "$T/badmask"
expect_status "--check-sizes reports a mask of the wrong size: exit 1" 1
expect_grep "the size mismatch is named" "chain_buckle/ground_truth/anomaly/000_mask.png: mask is [0-9]+x[0-9]+, image is [0-9]+x[0-9]+" "$T/err"
run $FETCH --check-sizes --archive "$T/sample.tar.gz" -o "$T/rt_checked"
expect_status "--check-sizes on a good archive exits 0" 0
run $FETCH --verify "$T/nonexistent"
expect_status "--verify on a missing folder exits 3" 3

# Full catalogue match: a tree of empty files with the counts of
# tests/data/mirad_overview.json (names only: the default scan opens no image), which
# also checks the built-in table against the JSON.
$PY - "$DATA/mirad_overview.json" "$T/gen/full" <<'PYEOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
for c in d["categories"]:
    for rel, n, mask in (("train/good", c["train"], False), ("test/good", c["test_normal"], False), ("test/anomaly", c["test_abnormal"], True)):
        os.makedirs(os.path.join(sys.argv[2], c["category"], rel), exist_ok=True)
        if mask:
            os.makedirs(os.path.join(sys.argv[2], c["category"], "ground_truth/anomaly"), exist_ok=True)
        for i in range(n):
            open(os.path.join(sys.argv[2], c["category"], rel, "%03d.png" % i), "w").close()
            if mask:
                open(os.path.join(sys.argv[2], c["category"], "ground_truth/anomaly/%03d_mask.png" % i), "w").close()
PYEOF
run $FETCH --verify "$T/gen/full" --dataset mirad
expect_status "--verify of a full-scale sample against MIRAD's catalogue exits 0" 0
expect_grep "the counts match the catalogue" "^catalogue: counts match the catalogue$" "$T/out"
expect_grep "the totals are the paper's" "^images: 4789 \(train 2398, test normal 654, test abnormal 1737\)$" "$T/out"

# ---- lock and stale temporary folders --------------------------------------------
# The test holds the lock itself (flock on its descriptor 9).
exec 9>"$T/.locked.lock"
flock 9
run $FETCH --archive "$T/sample.zip" -o "$T/locked"
expect_status "a second run on a locked target exits 3" 3
expect_grep "it names the other run" "another mirad-fetch is working on it" "$T/err"
exec 9>&-
mkdir -p "$T/.stale.tmp-AbC123/junk"
run $FETCH --archive "$T/sample.zip" -o "$T/stale"
expect_status "a run next to a stale temporary folder succeeds" 0
check "the stale temporary folder was removed" test ! -e "$T/.stale.tmp-AbC123"
check "the lock file is removed at the end" test ! -e "$T/.stale.lock"

# ---- downloads from the local test server ---------------------------------------
mkdir -p "$T/srv"
cp "$T/sample.tar.gz" "$T/srv/s.tar.gz"
cp "$T/sample.zip" "$T/srv/s.zip"
cp "$T/sample.tar.gz" "$T/srv/VisA_20220922.tar"
$PY "$MIRAD_SRCDIR/tests/cli/fetch_server.py" --root "$T/srv" --drive-file "$T/srv/s.zip" >"$T/port" 2>"$T/server.err" &
srvpid=$!
trap 'kill $srvpid 2>/dev/null; rm -rf "$T"' EXIT
wait_for test -s "$T/port"
PORT=$(head -1 "$T/port")
U=http://127.0.0.1:$PORT
size=$(stat -c %s "$T/sample.tar.gz")
zsum=$(sha256sum "$T/sample.zip" | cut -c1-64)
serverlog() { $PY -c "import sys,urllib.request;sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())" "$U/log"; }

run $FETCH --url "$U/ok/s.tar.gz" --sha256 "$sum" -o "$T/dl_ok"
expect_status "a plain download exits 0" 0
"$BIN/mirad-stats" "$T/dl_ok" >"$T/stats.dl" 2>/dev/null
expect_same "the downloaded tree has the generator's counts" "$T/stats.gen" "$T/stats.dl"
check "the .part file is removed after success" test ! -e "$T/dl_ok.part"

# Resume of a partial file from an earlier run.
head -c $((size / 3)) "$T/sample.tar.gz" >"$T/dl_resume.part"
run $FETCH --url "$U/ok/s.tar.gz" --sha256 "$sum" -o "$T/dl_resume"
expect_status "a partial download is resumed and verified" 0
expect_grep "the resume is reported" "resumed .*dl_resume.part at byte $((size / 3))" "$T/err"
serverlog >"$T/log1"
expect_grep "the server saw a Range request at the offset" "^GET /ok/s.tar.gz bytes=$((size / 3))-$" "$T/log1"

# A complete .part: the server's 416 says it is whole.
cp "$T/sample.tar.gz" "$T/dl_whole.part"
run $FETCH --url "$U/ok/s.tar.gz" --sha256 "$sum" -o "$T/dl_whole"
expect_status "a complete .part with a 416 answer is used as is" 0
# A stale .part larger than the file: 416, then a clean restart.
{ cat "$T/sample.tar.gz"; echo junk; } >"$T/dl_big.part"
run $FETCH --url "$U/ok/s.tar.gz" --sha256 "$sum" -o "$T/dl_big"
expect_status "a stale larger .part is restarted and verified" 0
expect_grep "the 416 restart is reported" "cannot resume at byte $((size + 5)) \(416\); starting again from zero" "$T/err"

for mode in norange wrongrange; do
	head -c 1000 "$T/sample.tar.gz" >"$T/dl_$mode.part"
	run $FETCH --url "$U/$mode/s.tar.gz" --sha256 "$sum" -o "$T/dl_$mode"
	expect_status "$mode: the download restarts from zero and succeeds" 0
	expect_grep "$mode: the restart is reported" "did not resume at byte 1000; starting again from zero" "$T/err"
done

# The connection drops mid-transfer: resume within the run.
run $FETCH --url "$U/drop/s.tar.gz" --sha256 "$sum" -o "$T/dl_drop"
expect_status "a dropped connection is resumed and the hash matches" 0
expect_grep "the partial transfer is reported" "partial file; retrying" "$T/err"
serverlog >"$T/log2"
expect_grep "the retry asked for the rest with Range" "^GET /drop/s.tar.gz bytes=[1-9][0-9]*-$" "$T/log2"

run $FETCH --url "$U/flaky/s.tar.gz" -o "$T/dl_flaky"
expect_status "503 twice, then success" 0
expect_grep "the retries are reported" "HTTP 503; retrying in 1 s \(attempt 3 of 5\)" "$T/err"
run $FETCH --url "$U/429/s.tar.gz" -o "$T/dl_429"
expect_status "429 with Retry-After, then success" 0
expect_grep "Retry-After is honoured" "HTTP 429; retrying in 1 s" "$T/err"
run $FETCH --retries 2 --url "$U/always503/s.tar.gz" -o "$T/dl_503"
expect_status "a server that stays unavailable exits 75 (retry later)" 75
expect_grep "it says the partial download is kept" "is kept; run again to resume" "$T/err"
check "no tree after a failed download" test ! -e "$T/dl_503"
run $FETCH --url "$U/ok/s.tar.gz" --size $((size + 1)) -o "$T/dl_size"
expect_status "a server announcing another size than --size exits 3" 3
expect_grep "both sizes are named" "the server announces $size bytes, expected $((size + 1))" "$T/err"
check "nothing of the wrong-size answer was kept" test ! -s "$T/dl_size.part"
run $FETCH --url "$U/404/s.tar.gz" -o "$T/dl_404"
expect_status "HTTP 404 exits 3" 3
expect_grep "404 is named" "HTTP 404" "$T/err"
run $FETCH --url "$U/html/s.tar.gz" -o "$T/dl_html"
expect_status "a text/html answer exits 3" 3
expect_grep "the HTML answer is named" "sent an HTML page instead of an archive" "$T/err"
check "the HTML page was not saved" test ! -e "$T/dl_html.part" -a ! -e "$T/dl_html"
run $FETCH --url "$U/htmlbytes/s.tar.gz" -o "$T/dl_htmlb"
expect_status "HTML sent as octet-stream exits 3" 3
expect_grep "the HTML content is recognised" "an HTML page, not an archive" "$T/err"
check "the HTML download was removed" test ! -e "$T/dl_htmlb.part"
run $FETCH --url "$U/wrongbytes/s.tar.gz" --sha256 "$sum" -o "$T/dl_wrong"
expect_status "one flipped byte exits 3" 3
expect_grep "the flipped byte shows as a hash mismatch naming both hashes" "SHA-256 mismatch: expected $sum, got [0-9a-f]{64}" "$T/err"
check "the bad download was removed" test ! -e "$T/dl_wrong.part"
check "nothing was unpacked from the bad download" test ! -e "$T/dl_wrong"
run $FETCH --url "$U/redirect-ftp/s.tar.gz" -o "$T/dl_ftp"
expect_status "a redirect to ftp is refused" 3
expect_grep "the refused scheme is named" "redirect to ftp://127.0.0.1/s.tar.gz: the ftp scheme is not allowed" "$T/err"
run $FETCH --url "file://$T/sample.zip" --sha256 "$zsum" -o "$T/dl_file"
expect_status "a file:// URL works" 0

# Interrupted download: SIGINT leaves the .part and no tree; the next run
# resumes it and the hash matches.  /stall sends half the file; the run
# stops itself once it has that half (MIRAD_TEST_STOP_AT, mirad(7)).
MIRAD_TEST_STOP_AT=downloading:$((size / 2)) $FETCH --url "$U/stall/s.tar.gz" \
	-o "$T/dl_int" >/dev/null 2>"$T/int.err" &
fpid=$!
check "the download stopped at half the file" wait_stopped "$fpid"
kill -INT "$fpid"
kill -CONT "$fpid"
rc=0
wait "$fpid" || rc=$?
expect_status "Ctrl-C during a download ends with 130" 130
check "the partial download is kept for resumption" test -s "$T/dl_int.part"
check "no tree after an interrupt" test ! -e "$T/dl_int"
check "no temporary folder after an interrupt" test -z "$(ls -A "$T" | grep '^\.dl_int\.tmp')"
check "no lock file after an interrupt" test ! -e "$T/.dl_int.lock"
kept=$(stat -c %s "$T/dl_int.part")
run $FETCH --url "$U/ok/s.tar.gz" --sha256 "$sum" -o "$T/dl_int"
expect_status "the interrupted download resumes and verifies" 0
expect_grep "it resumed where the interrupt left it" "at byte $kept" "$T/err"

# The Google Drive flow.
export MIRAD_FETCH_TEST_DRIVE_URL=$U
run $FETCH --url "$U/file/d/1-4aMEtiTvk77Oo-oNW6WdPPuxpfHRKwq/view?usp=sharing" --sha256 "$zsum" -o "$T/drive"
expect_status "a Drive share link goes through the confirmation form" 0
expect_grep "the form is followed" "following Google Drive's download form" "$T/err"
serverlog >"$T/log3"
expect_grep "the download carried the form's confirm and uuid" "^GET /download\?id=1-4aMEtiTvk77Oo-oNW6WdPPuxpfHRKwq&export=download&confirm=t&uuid=[0-9a-f-]{36} -$" "$T/log3"
expect_no_grep "the unexpected hidden input was dropped" "evil" "$T/log3"
run $FETCH --url "$U/uc?id=quota00000" -o "$T/drive_quota"
expect_status "the Drive quota page exits 75" 75
expect_grep "the quota error is distinct" "Google Drive refuses the download for now \(Too many users have viewed or downloaded" "$T/err"
check "the quota page was not saved" test ! -s "$T/drive_quota.part" -a ! -e "$T/drive_quota"
run $FETCH --url "$U/uc?id=loop000000" -o "$T/drive_loop"
expect_status "a Drive form that leads nowhere exits 3" 3
expect_grep "the loop is bounded" "lead nowhere \(no progress after 4 pages\)" "$T/err"
run $FETCH --url "$U/uc?id=elsewhere00" -o "$T/drive_else"
expect_status "a Drive redirect to another host is refused" 3
expect_grep "the host is named" "host 127.0.0.2 is not allowed" "$T/err"
run $FETCH --dataset mirad -o "$T/drive_ds"
expect_status "--dataset mirad (Drive, no pin) unpacks and reports the count mismatch: exit 1" 1
expect_grep "the unpinned hash is printed" "sha256 $zsum \(not pinned" "$T/err"
expect_grep "the catalogue comparison is reported" "^catalogue: counts differ from the catalogue$" "$T/out"
check "the tree is published despite the count mismatch" test -d "$T/drive_ds/building_block"
unset MIRAD_FETCH_TEST_DRIVE_URL

# A catalogue entry with a pinned hash, served by a local mirror.
export MIRAD_FETCH_TEST_MIRROR=$U/ok
run $FETCH --dataset visa -o "$T/visa"
unset MIRAD_FETCH_TEST_MIRROR
expect_status "--dataset visa with other bytes exits 3" 3
expect_grep "the pinned VisA hash is checked" "expected 2eb8690c803ab37de0324772964100169ec8ba1fa3f7e94291c9ca673f40f362, got $sum" "$T/err"
check "no VisA tree was published" test ! -e "$T/visa"
run $FETCH --archive "$T/sample.tar.gz" --dataset mvtec-ad -o "$T/mv"
expect_status "--archive with --dataset checks the catalogue pin" 3
expect_grep "the MVTec AD pin is named" "expected cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d" "$T/err"

kill $srvpid 2>/dev/null
done_testing
