# SPDX-License-Identifier: MIT
"""Helper of report.sh: write the Markdown performance report on standard
output from the folder report.sh filled:

  meta.tsv     key<TAB>value (date, machine, versions, load averages)
  runs.tsv     name<TAB>status<TAB>seconds<TAB>settings, one per benchmark
  results.tsv  the rows of bench_lib.sh
  log.NAME     each benchmark's human output

usage: report.py DIR
"""
import os
import sys

WHAT = {
    "foundation": "mirad-split and mirad-stats (counts) against a Python "
                  "os.walk + PIL header walk",
    "split": "mirad-split (native scan; --val/--shots over a manifest) "
             "against its Python equivalent, hyperfine",
    "stats": "mirad-stats --all / --imaging / counts against NumPy + PIL",
    "fetch": "mirad-fetch --archive against bsdtar -xf (tar.gz and zip)",
    "convert": "mirad-convert against cp -r, cp -al, a Python prepare_data "
               "and a PIL resize script",
    "augment": "mirad-augment's severity-3 chain against NumPy/SciPy/PIL and OpenCV, ~1 MP and ~100 px images",
    "eval": "mirad-eval P-AUROC + AU-PRO against scikit-learn + NumPy",
    "scaling": "every tool's main job at 1x, 4x, 16x the sample and at "
               "4 image sizes",
}
SCALING = ("scaling-count", "scaling-size")


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def secs(x):
    """Seconds with about three significant digits."""
    if x is None:
        return "-"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    if x >= 0.1:
        return "%.2f" % x
    return "%.3f" % x


def ratio(a, m):
    if a is None or m is None or m <= 0:
        return "-"
    return "%.2f" % (a / m)


def cell(s):
    return str(s).replace("|", "\\|").strip() or "-"


def table(head, rows, align):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    for r in rows:
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return "\n".join(out)


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def load_note(meta):
    """A warning when the load average says the machine was busy."""
    try:
        cores = int(meta.get("cores", "1"))
        loads = [float(x) for x in (meta.get("load_before", "").split()[:1] +
                                    meta.get("load_after", "").split()[:1])]
    except ValueError:
        return ""
    if loads and max(loads) > 0.5 * cores:
        return ("The 1-minute load average reached %.2f on %d cores: other "
                "jobs shared the machine, so the times are noisy and the "
                "ratios indicative only." % (max(loads), cores))
    return "The machine was otherwise quiet (1-minute load average at most " \
           "%.2f on %d cores)." % (max(loads) if loads else 0, cores)


def scaling_section(rows, axis):
    """The summary and detailed tables of one scaling axis."""
    rows = [r + ["-"] * (11 - len(r)) for r in rows if r[0] == axis]
    if not rows:
        return []
    jobs, factors = [], []
    for r in rows:
        if r[1] not in jobs:
            jobs.append(r[1])
        if r[8] not in factors:
            factors.append(r[8])
    by = {(r[1], r[8]): r for r in rows}
    count = axis == "scaling-count"
    label = (lambda f: f + "x") if count else (lambda f: "image-scale " + f)
    out = []
    # Summary: one row per job, the time at each factor and its growth.
    head = ["job"] + [label(f) for f in factors]
    summary = []
    for j in jobs:
        base = num(by[(j, factors[0])][3]) if (j, factors[0]) in by else None
        line = [j]
        for f in factors:
            r = by.get((j, f))
            t = num(r[3]) if r else None
            if t is None:
                line.append("-")
            elif f == factors[0] or not base:
                line.append(secs(t) + " s")
            else:
                line.append("%s s (%.1fx)" % (secs(t), t / base))
        summary.append(line)
    out.append(table(head, summary, "l" + "r" * len(factors)))
    out.append("")
    # Detail: per image (and per megapixel on the size axis), alternatives.
    if count:
        head = ["job", "scale", "images", "seconds", "ms / image",
                "growth", "alternative", "alt. seconds", "alt. / mirad"]
    else:
        head = ["job", "image-scale", "images", "mean size", "pixels",
                "seconds", "ms / image", "ms / megapixel", "growth",
                "alternative", "alt. seconds", "alt. / mirad"]
    detail = []
    for j in jobs:
        base = None
        base_px = None
        for f in factors:
            r = by.get((j, f))
            if not r:
                continue
            t, ta = num(r[3]), num(r[5])
            n, px = num(r[9]), num(r[10])
            if base is None:
                base, base_px = t, px
            per = "%.2f" % (t * 1000 / n) if t is not None and n else "-"
            growth = "%.1fx" % (t / base) if t is not None and base else "-"
            if count:
                detail.append([j, label(f), "%d" % n if n else "-", secs(t),
                               per, growth, r[4], secs(ta), ratio(ta, t)])
            else:
                size = r[2].split("of ~")[-1] if "of ~" in r[2] else "-"
                pxg = "%.0fx" % (px / base_px) if px and base_px else "-"
                permp = ("%.2f" % (t * 1000 / (n * px / 1e6))
                         if t is not None and n and px else "-")
                detail.append([j, f, "%d" % n if n else "-", size, pxg,
                               secs(t), per, permp, growth, r[4], secs(ta),
                               ratio(ta, t)])
    out.append(table(head, detail,
                     "llrrrrlrr" if count else "lrrrrrrrrlrr"))
    return out


def main(d):
    meta = dict((r[0], r[1] if len(r) > 1 else "")
                for r in read_tsv(os.path.join(d, "meta.tsv")))
    runs = read_tsv(os.path.join(d, "runs.tsv"))
    results = read_tsv(os.path.join(d, "results.tsv"))
    total = int(float(meta.get("total", "0")))
    o = []
    o.append("# mirad-tools performance report")
    o.append("")
    o.append("Generated by `tests/bench/report.sh` (`make bench-report`) on "
             "%s in %dm%02ds (%s sizes). Do not edit: regenerate it; "
             "`tests/bench/README.md` explains the benchmarks and the "
             "settings, `REPORT.tsv` beside this file holds the same rows."
             % (meta.get("date", "?"), total // 60, total % 60,
                meta.get("mode", "full")))
    o.append("")
    if meta.get("mode") == "quick":
        o.append("**Quick mode** (`MIRAD_BENCH_QUICK=1`): tiny data and one "
                 "run each, to check the machinery; the numbers mean "
                 "nothing.")
        o.append("")
    o.append("**Load average** (1, 5, 15 min): %s before, %s after. %s"
             % (meta.get("load_before", "?"), meta.get("load_after", "?"),
                load_note(meta)))
    o.append("")
    o.append("## Machine")
    o.append("")
    o.append(table(["", ""], [
        ["CPU", meta.get("cpu", "?")],
        ["cores", meta.get("cores", "?")],
        ["memory", meta.get("memory", "?")],
        ["OS", meta.get("os", "?")],
        ["virtualisation", meta.get("virtualisation", "") or "none seen"],
        ["work folder", meta.get("workdir", "?")],
        ["load average before / after", "%s / %s" % (
            meta.get("load_before", "?"), meta.get("load_after", "?"))],
        ["mirad-tools", "%s (commit %s)" % (meta.get("tools", "?"),
                                            meta.get("commit", "?"))],
        ["build", meta.get("build", "?")],
        ["libraries", meta.get("libraries", "?")],
        ["Python side", meta.get("python", "?")],
        ["other contenders", meta.get("contenders", "?")],
    ], "ll"))
    o.append("")
    o.append("## Benchmarks run")
    o.append("")
    rows = []
    for name, rc, s, settings in [(r + ["", "", ""])[:4] for r in runs]:
        status = "ok" if rc == "0" else "**failed** (status %s)" % rc
        rows.append(["`bench_%s.sh`" % name, WHAT.get(name, ""),
                     settings or "defaults", secs(num(s)), status])
    o.append(table(["script", "what", "settings", "seconds", "status"],
                   rows, "lllrl"))
    o.append("")
    o.append("## Results")
    o.append("")
    o.append("Wall-clock seconds. *ratio* = alternative's time / mirad-tools' "
             "time: above 1 mirad-tools is faster, below 1 slower. Targets "
             "and CPU time or memory, where measured, are in the notes.")
    o.append("")
    rows = []
    for r in results:
        if r[0] in SCALING or len(r) < 8:
            continue
        m, a = num(r[3]), num(r[5])
        rows.append([r[0], "`%s`" % r[1], r[2], secs(m), r[4], secs(a),
                     ratio(a, m), r[7]])
    o.append(table(["benchmark", "mirad-tools run", "data", "seconds",
                    "alternative", "alt. seconds", "ratio", "note"],
                   rows, "lllrlrrl"))
    o.append("")
    for bench, title, intro in (
            ("scaling-count", "Cost against the number of images",
             "The bundled sample (1x: `mirad-gen-sample --scale 0.1`, "
             "as in `examples/quickstart.sh`, unless the settings above "
             "say otherwise) at 1x, 4x and 16x its counts, images of "
             "about 100x100 px. Best of up to 3 runs (long jobs run "
             "once). *Growth* is the time against 1x: linear cost shows "
             "as 4x and 16x; fixed start-up costs make it smaller."),
            ("scaling-size", "Cost against the image size",
             "The 1x counts at `--image-scale` 1, 2, 4, 8 (the pixels "
             "per image grow 4x, 16x, 64x). *Growth* is the time against "
             "image-scale 1: cost linear in the pixels shows as 4x, 16x, "
             "64x; header-only jobs stay flat.")):
        section = scaling_section(results, bench)
        if section:
            o += ["## " + title, "", intro, ""] + section + [""]
    o.append("## Output of each benchmark")
    o.append("")
    for r in runs:
        path = os.path.join(d, "log." + r[0])
        text = ""
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read().rstrip()
        o.append("<details><summary><code>bench_%s.sh</code></summary>"
                 % r[0])
        o.append("")
        o.append("```text")
        o.append(text.replace("```", "'''") or "(no output)")
        o.append("```")
        o.append("")
        o.append("</details>")
        o.append("")
    sys.stdout.write("\n".join(o).rstrip("\n") + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
