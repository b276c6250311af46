# SPDX-License-Identifier: MIT
"""Category and method names with every table format's specials, for the
table tests of mirad-stats and mirad-eval.

  hostile_names.py manifest IN [map]  print manifest IN with its first
                                      categories renamed to the hostile
                                      names; with map, each test record
                                      gets a "map" field naming its map
                                      under the original category
  hostile_names.py check FMT FILE [methods]
                                      print "ok" when table FILE in FMT
                                      (md, csv, json, tex) holds every
                                      hostile name as FMT must write it
                                      (with methods, also the method
                                      names METHODS), else what is wrong
"""
import csv
import io
import json
import os
import re
import sys

NAMES = ['x,y"z', "a|b", "back\\slash", "&%$#_{}~^", "two\nlines", "Größe €"]
# How the LaTeX tables show them: display names (first letter upper case,
# '_' and '-' as spaces), specials escaped.
TEX = ['X,y"z', "A\\textbar{}b", "Back\\textbackslash{}slash",
       "\\&\\%\\$\\# \\{\\}\\textasciitilde{}\\textasciicircum{}",
       "Two lines", "Größe €"]
METHODS = ["m|1", "m&2"]
TEX_METHODS = ["M\\textbar{}1", "M\\&2"]


def manifest(path, with_maps):
    records = [json.loads(line) for line in open(path)]
    cats = sorted({r["category"] for r in records})
    rename = dict(zip(cats, NAMES))
    for r in records:
        if with_maps and r["split"] == "test":
            folder, name = os.path.split(r["image"])
            r["map"] = "%s/test/%s/%s.tiff" % (
                r["category"], os.path.basename(folder),
                os.path.splitext(name)[0])
        r["category"] = rename.get(r["category"], r["category"])
        print(json.dumps(r))


def md_escape(name):
    return name.replace("|", "\\|").replace("\n", "<br>")


def check(fmt, path, methods):
    text = open(path, encoding="utf-8", newline="").read()
    bad = []
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        col = rows[0].index("category")
        got = [r[col] for r in rows[1:]]
        bad = [n for n in NAMES if n not in got]
        if len({len(r) for r in rows}) != 1:
            bad.append("not rectangular")
        bad += [m for m in METHODS if methods and m not in rows[0]]
    elif fmt == "json":
        d = json.loads(text)
        got = [c.get("category") for c in d.get("categories") or d["rows"]]
        bad = [n for n in NAMES if n not in got]
        bad += [m for m in METHODS
                if methods and m not in d["rows"][0]["values"]]
    elif fmt == "md":
        bad = [n for n in NAMES if "| %s |" % md_escape(n) not in text]
        head = text.split("\n")[0]
        bad += [m for m in METHODS
                if methods and " %s |" % md_escape(m) not in head]
        # Every line of the table has as many unescaped pipes as the header.
        table = [line for line in text.split("\n") if line.startswith("|")]
        pipes = {len(re.findall(r"(?<!\\)\|", line)) for line in table}
        if len(pipes) != 1:
            bad.append("pipes %s" % sorted(pipes))
    elif fmt == "tex":
        want = [n + " & " for n in TEX]
        if methods:
            want.append(" & %s & " % " & ".join(TEX_METHODS))
        bad = [w for w in want if w not in text]
        # A backslash pair only ends rows: no line break inside a name.
        bad += [line for line in text.split("\n")
                if "\\\\" in line and not line.endswith(" \\\\")]
    print("ok" if not bad else bad)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "manifest":
        manifest(sys.argv[2], "map" in sys.argv[3:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], "methods" in sys.argv[4:])
    else:
        sys.exit(__doc__)
