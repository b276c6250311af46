#!/bin/sh
# SPDX-License-Identifier: MIT
# mirad-stats --html: the dataset report, one self-contained page, opened
# in a real headless browser (Debian's chromium) when it is installed.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

ST=$BIN/mirad-stats
"$GEN" -o "$T/s" --scale 0.02 --seed 3 >/dev/null 2>"$T/generr" ||
	{ echo "Bail out! generator failed"; cat "$T/generr"; exit 1; }

run "$ST" --format csv --html "$T/report.html" "$T/s"
expect_status "--html: exit 0" 0
expect_grep "--html: the tables still go to standard output" "^total,48," "$T/out"
check "--html: the report is written" test -s "$T/report.html"
expect_no_grep "self-contained: no script, no link, no URL outside the page" \
	'<script|<link|(src|href)="(https?:|//|file:)|url\(' "$T/report.html"
"$PY" - "$T/report.html" >"$T/static" 2>&1 <<'PYEOF'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
imgs = re.findall(r'<img [^>]*src="([^"]*)"', html)
print(len(imgs), all(s.startswith("data:image/png;base64,") for s in imgs),
      [h for h in ("Overview", "Imaging heterogeneity", "Charts", "Sample images", "Problems found")
       if "<h2>%s</h2>" % h not in html])
PYEOF
expect_eq "five inline PNGs (four charts, the mosaic) and every section" \
	"$(cat "$T/static")" "5 True []"
expect_grep "the flags with the measures behind them" \
	'<th>DR: size spread \(&gt; 0.1\)</th>' "$T/report.html"
expect_grep "problems: the pooled defect types are named" \
	'defect types unknown: the anomalies are pooled' "$T/report.html"

# A damaged image shows up under its category's problems.
cp -R "$T/s" "$T/b"
f=$T/b/chain_buckle/train/good/000.png
head -c 60 "$f" >"$f.tmp" && mv "$f.tmp" "$f"
run "$ST" --html "$T/b.html" "$T/b"
expect_status "a damaged image: exit 1, the report is still written" 1
expect_grep "problems: the damaged image is listed" \
	'could not be measured: 1<ul>' "$T/b.html"

# After --merge the measures are there but not the files: no mosaic.
"$ST" --partial "$T/s" >"$T/p.json"
run "$ST" --merge --html "$T/m.html" "$T/p.json"
expect_status "--merge --html: exit 0" 0
expect_grep "--merge --html: a note instead of the mosaic" "No mosaic: the image files are not" "$T/m.html"

run "$ST" --partial --html "$T/x.html" "$T/s"
expect_status "--partial --html: usage error" 2
run "$ST" --html "$T/no/such/dir/r.html" "$T/s"
expect_status "an unwritable --html path: fatal" 3
expect_grep "the unwritable path is named" "no/such/dir/r.html" "$T/err"

# --- in a real browser ----------------------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	for i in 1 2 3; do
		ok "# SKIP chromium is not installed (build-aux/install-deps installs it)"
	done
	done_testing
	exit 0
fi
# chrome N ARGS...: a fresh profile (N) for every run.
chrome() {
	_profile=$T/profile.$1
	shift
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$_profile" "$@"
}
# The report inside a frame of a test page whose script reads what the
# browser made of it: every image decoded, the table's text.
cat >"$T/probe.html" <<'HTMLEOF'
<!DOCTYPE html>
<html><body>
<iframe id="r" src="report.html" width="1200" height="800"></iframe>
<script>
document.getElementById("r").addEventListener("load", function () {
  var d = this.contentDocument, imgs = d.images, loaded = 0;
  for (var i = 0; i < imgs.length; i++)
    if (imgs[i].complete && imgs[i].naturalWidth > 0) loaded++;
  var rows = d.querySelectorAll("#counts tbody tr"), last = rows[rows.length - 1];
  var p = document.createElement("pre");
  p.id = "result";
  p.textContent = "images=" + imgs.length + " loaded=" + loaded +
    " rows=" + rows.length + " total=[" + last.innerText.replace(/\s+/g, " ").trim() + "]";
  document.body.appendChild(p);
});
</script>
</body></html>
HTMLEOF
chrome 1 --allow-file-access-from-files --virtual-time-budget=10000 \
	--dump-dom "file://$T/probe.html" >"$T/dom" 2>"$T/chrome.err"
expect_grep "chromium: all five images load and decode" \
	'images=5 loaded=5 ' "$T/dom"
expect_grep "chromium: the table's total row reads as printed" \
	'rows=11 total=\[Total 48 12 35 –' "$T/dom"
chrome 2 --window-size=1200,2000 --screenshot="$T/shot.png" \
	"file://$T/report.html" >/dev/null 2>"$T/chrome2.err"
"$PY" - "$T/shot.png" >"$T/shot" 2>&1 <<'PYEOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
# The page is not blank: text, the table's rules, the charts' colours.
colours = dict((c, n) for n, c in (im.getcolors(1 << 22) or []))
print(im.size, len(colours) > 50, colours.get((66, 114, 196), 0) > 1000)
PYEOF
expect_eq "chromium: a screenshot of the page, with the charts' bars on screen" \
	"$(cat "$T/shot")" "(1200, 2000) True True"

done_testing
