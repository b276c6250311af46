#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Synthetic anomaly maps and reference metrics for mirad-eval's tests.

  gen DATASET MAPS KIND SEED   write one map per test image of an MVTec-layout
                               DATASET into MAPS/<cat>/test/<folder>/<stem>.*
  ref DATASET MAPS             print reference metrics (JSON) computed with
                               scikit-learn and a NumPy restatement of the
                               MVTec AD AU-PRO
  ader DATASET MAPS [K|none]   print ADer's (use_adeval, nstrips=50) numbers,
                               image scores pooled KxK (default 16) or not
  cmp REF.json TOOL.json TOL   compare; prints one line per difference,
                               exits 1 if any exceeds TOL
  batch                        run the commands read from stdin, one a line:
                               OUT<TAB>COMMAND<TAB>ARG... with its stdout in
                               OUT ("-": none) and its exit status in OUT.rc;
                               a test starts Python (and scikit-learn, which
                               is imported only by ref and ader) once

KIND: float (random float32 TIFF), ties (float32 TIFF with 6 levels, so
ties mix positives and negatives), quant8 (8-bit PNG), uint16 (16-bit
TIFF), png16 (16-bit PNG), npy (float32 .npy), heavy (exp of float maps),
float64 (float64 TIFF as NumPy/tifffile write it, which PIL cannot read).

Maps of another size than their image are resized bilinearly (half-pixel
centres, edge clamping, in float64 rounded to float32: mirad-eval's rule)
to the size of the mask, or of the image for a normal image without one.

The AU-PRO restatement follows MVTec's compute_pro: 8-connected components
(scipy.ndimage.label with a 3x3 structure, or a BFS when scipy is absent),
one descending sort of all pixel scores, cumulative FP and 1/|C| sums, one
point per distinct score, (0,0) and (1,1) added, trapezoid up to the limit
with linear interpolation, divided by the limit.  It keeps FPR in float64
("pro64", compared at 1e-9); "pro32" keeps MVTec's float32 FPR (1e-6).
"""
import contextlib
import glob
import json
import os
import struct
import sys

import numpy as np
from PIL import Image

# scikit-learn and scipy take seconds to import: only the commands that
# compute references load them (sklearn_metrics(), label8()).
ndimage = None


def sklearn_metrics():
    import sklearn.metrics
    return sklearn.metrics

EXTS = (".tiff", ".tif", ".png", ".npy")

TIFF_TYPES = {3: ("<H", 2), 4: ("<I", 4)}


def write_tiff64(path, a):
    """A minimal little-endian TIFF: one float64 strip, no compression."""
    a = np.ascontiguousarray(a, dtype="<f8")
    h, w = a.shape
    data = a.tobytes()
    entries = [(256, 4, w), (257, 4, h), (258, 3, 64), (259, 3, 1),
               (262, 3, 1), (273, 4, None), (277, 3, 1), (278, 4, h),
               (279, 4, len(data)), (284, 3, 1), (339, 3, 3)]
    data_off = 8 + 2 + 12 * len(entries) + 4
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    out += struct.pack("<H", len(entries))
    for tag, typ, val in entries:
        val = data_off if val is None else val
        if typ == 3:
            out += struct.pack("<HHIHH", tag, typ, 1, val, 0)
        else:
            out += struct.pack("<HHII", tag, typ, 1, val)
    out += struct.pack("<I", 0) + data
    with open(path, "wb") as f:
        f.write(out)


def read_tiff64(path):
    """Read back what write_tiff64 wrote (one strip of float64)."""
    b = open(path, "rb").read()
    off = struct.unpack_from("<I", b, 4)[0]
    tags = {}
    for i in range(struct.unpack_from("<H", b, off)[0]):
        tag, typ, _ = struct.unpack_from("<HHI", b, off + 2 + 12 * i)
        tags[tag] = struct.unpack_from(TIFF_TYPES[typ][0], b,
                                       off + 2 + 12 * i + 8)[0]
    return np.frombuffer(b, "<f8", tags[256] * tags[257],
                         tags[273]).reshape(tags[257], tags[256])


def resize_bilinear(a, ow, oh):
    """mirad-eval's eval_resize_bilinear, operation for operation."""
    ih, iw = a.shape
    a = a.astype(np.float64)

    def axis(n_out, n_in):
        f = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        f = np.maximum(f, 0)
        i0 = np.minimum(f.astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, f - i0
    y0, y1, wy = axis(oh, ih)
    x0, x1, wx = axis(ow, iw)
    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
    bot = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
    wy = wy[:, None]
    return (top * (1 - wy) + bot * wy).astype(np.float32)


def test_images(dataset):
    """(category, folder, stem, mask path or None, image path) per test image."""
    out = []
    for path in sorted(glob.glob(os.path.join(dataset, "*", "test", "*", "*"))):
        parts = path.split(os.sep)
        cat, folder = parts[-4], parts[-2]
        stem = os.path.splitext(parts[-1])[0]
        mask = os.path.join(dataset, cat, "ground_truth", folder,
                            stem + "_mask.png")
        out.append((cat, folder, stem, mask if os.path.exists(mask) else None,
                    path))
    return out


def read_mask(mask, image):
    if mask is None:
        w, h = Image.open(image).size
        return np.zeros((h, w), dtype=bool)
    m = np.array(Image.open(mask))
    if m.ndim == 3:
        m = m.any(axis=2)
    return m != 0


def gen(dataset, maps, kind, seed):
    rng = np.random.default_rng(int(seed))
    for cat, folder, stem, mask, image in test_images(dataset):
        gt = read_mask(mask, image)
        h, w = gt.shape
        noise = rng.random((h, w))
        # smooth a little so that regions have structure
        noise = (noise + np.roll(noise, 1, 0) + np.roll(noise, 1, 1)) / 3
        amap = noise + gt * rng.uniform(0.0, 0.6)
        d = os.path.join(maps, cat, "test", folder)
        os.makedirs(d, exist_ok=True)
        base = os.path.join(d, stem)
        if kind == "float":
            Image.fromarray(amap.astype(np.float32), mode="F").save(base + ".tiff")
        elif kind == "heavy":
            Image.fromarray(np.exp(4 * amap).astype(np.float32),
                            mode="F").save(base + ".tiff")
        elif kind == "ties":
            q = np.floor(amap * 4) / 4 - 0.5
            # -0.0 and +0.0 both occur: they must tie
            q[(q == 0) & (rng.random((h, w)) < 0.5)] = -0.0
            Image.fromarray(q.astype(np.float32), mode="F").save(base + ".tiff")
        elif kind == "quant8":
            q = np.clip(amap / 1.6 * 255, 0, 255).astype(np.uint8)
            Image.fromarray(q).save(base + ".png")
        elif kind == "uint16":
            q = np.clip(amap / 1.6 * 65535, 0, 65535).astype(np.uint16)
            Image.fromarray(q).save(base + ".tiff")
        elif kind == "png16":
            q = np.clip(amap / 1.6 * 65535, 0, 65535).astype(np.uint16)
            Image.fromarray(q).save(base + ".png")
        elif kind == "npy":
            np.save(base + ".npy", amap.astype(np.float32))
        elif kind == "float64":
            write_tiff64(base + ".tiff", amap)
        else:
            sys.exit("unknown kind " + kind)


def read_map(maps, cat, folder, stem):
    for ext in EXTS:
        p = os.path.join(maps, cat, "test", folder, stem + ext)
        if os.path.exists(p):
            if ext == ".npy":
                return np.load(p).astype(np.float32)
            try:
                a = np.array(Image.open(p))
            except OSError:  # PIL reads no float64 TIFF
                a = read_tiff64(p)
            return a.astype(np.float32)
    raise FileNotFoundError(stem)


def label8(mask):
    """8-connected labelling: scipy when installed, else a BFS."""
    global ndimage
    if ndimage is None:
        try:
            from scipy import ndimage as nd
            ndimage = nd
        except ImportError:  # pragma: no cover - python3-scipy is optional
            ndimage = False
    if ndimage:
        lab, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=int))
        return lab, n
    h, w = mask.shape
    lab = np.zeros((h, w), dtype=np.int64)
    n = 0
    for y in range(h):
        for x in range(w):
            if mask[y, x] and lab[y, x] == 0:
                n += 1
                lab[y, x] = n
                stack = [(y, x)]
                while stack:
                    cy, cx = stack.pop()
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            ny, nx = cy + dy, cx + dx
                            if (0 <= ny < h and 0 <= nx < w and mask[ny, nx]
                                    and lab[ny, nx] == 0):
                                lab[ny, nx] = n
                                stack.append((ny, nx))
    return lab, n


def trapezoid(x, y, x_max):
    """MVTec AD's generic_util.trapezoid, restated."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    correction = 0.0
    if x_max not in x:
        ins = int(np.searchsorted(x, x_max, side="right"))
        assert 0 < ins < len(x)
        y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) *
                                 (x_max - x[ins - 1]) / (x[ins] - x[ins - 1]))
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    keep = x <= x_max
    x, y = x[keep], y[keep]
    return float(0.5 * np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1])) + correction)


def au_pro(scores, gts, limit, fpr32):
    """MVTec compute_pro over lists of maps of any shapes, flattened."""
    fp_changes, pro_changes, flat = [], [], []
    n_regions = 0
    for s, g in zip(scores, gts):
        lab, n = label8(g)
        pro = np.zeros(g.shape, dtype=np.float64)
        for k in range(1, n + 1):
            sel = lab == k
            pro[sel] = 1.0 / sel.sum()
        n_regions += n
        fp_changes.append((~g).ravel().astype(np.uint32))
        pro_changes.append(pro.ravel())
        flat.append(s.ravel())
    fp = np.concatenate(fp_changes)
    pc = np.concatenate(pro_changes)
    sc = np.concatenate(flat)
    n_ok = int(fp.sum())
    if n_regions == 0 or n_ok == 0:
        return None
    order = np.argsort(sc, kind="stable")[::-1]
    sc, fp, pc = sc[order], fp[order], pc[order]
    fpr = np.cumsum(fp)
    if fpr32:
        fpr = fpr.astype(np.float32) / np.float32(n_ok)
    else:
        fpr = fpr / float(n_ok)
    pro = np.cumsum(pc) / n_regions
    keep = np.append(np.diff(sc) != 0, True)
    fpr = np.clip(fpr[keep], None, 1.0)
    pro = np.clip(pro[keep], None, 1.0)
    fpr = np.concatenate([[0.0], fpr, [1.0]])
    pro = np.concatenate([[0.0], pro, [1.0]])
    return trapezoid(fpr, pro, limit) / limit


def f1max(labels, scores):
    p, r, _ = sklearn_metrics().precision_recall_curve(labels, scores)
    f = 2 * p * r / (p + r)
    return float(np.max(f[np.isfinite(f)]))


def ref(dataset, maps, limit=0.3):
    per = {}
    for cat, folder, stem, mask, image in test_images(dataset):
        gt = read_mask(mask, image)
        amap = read_map(maps, cat, folder, stem)
        # the image score is the max of the map as written
        score = float(amap.max())
        if amap.shape != gt.shape:
            amap = resize_bilinear(amap, gt.shape[1], gt.shape[0])
        per.setdefault(cat, []).append((amap, gt, score))
    out = {"categories": []}
    for cat in sorted(per):
        maps_, gts, isc = zip(*per[cat])
        il = np.array([g.any() for g in gts])
        isc = np.array(isc)
        pl = np.concatenate([g.ravel() for g in gts])
        ps = np.concatenate([m.ravel() for m in maps_]).astype(np.float64)
        row = {"category": cat, "images": len(gts), "pixels": int(pl.size)}
        if 0 < il.sum() < len(il):
            row["i-auroc"] = float(sklearn_metrics().roc_auc_score(il, isc))
        if il.any():
            row["i-ap"] = float(sklearn_metrics().average_precision_score(il, isc))
            row["i-f1max"] = f1max(il, isc)
        if 0 < pl.sum() < pl.size:
            row["p-auroc"] = float(sklearn_metrics().roc_auc_score(pl, ps))
            row["p-ap"] = float(sklearn_metrics().average_precision_score(pl, ps))
            row["p-f1max"] = f1max(pl, ps)
        pro64 = au_pro(maps_, gts, limit, False)
        if pro64 is not None:
            row["aupro"] = pro64
            row["aupro32"] = au_pro(maps_, gts, limit, True)
        out["categories"].append(row)
    json.dump(out, sys.stdout, indent=1)
    print()


def ader(dataset, maps, pooling=16, nstrips=50, limit=0.3):
    """ADer's use_adeval numbers restated from ADer's code and the ADEval
    description: 50 bins between the category's min and max, binned in
    float32 like torch.histc, the max counted again in the overflow bin,
    region weights float32(1/area); image scores = max of the 16x16
    mean-pooled map; pixel F1 over 21 thresholds of the min-max normalised
    maps (float32), strict >."""
    per = {}
    for cat, folder, stem, mask, image in test_images(dataset):
        per.setdefault(cat, []).append(
            (read_map(maps, cat, folder, stem), read_mask(mask, image)))
    out = {"categories": []}
    nb = nstrips + 2
    for cat in sorted(per):
        maps_, gts = zip(*per[cat])
        mn = np.float32(min(m.min() for m in maps_))
        mx = np.float32(max(m.max() for m in maps_))
        pos, neg, wpos = np.zeros(nb), np.zeros(nb), np.zeros(nb)
        for m, g in zip(maps_, gts):
            lab, n = label8(g)
            w = np.zeros(g.shape, dtype=np.float32)
            for k in range(1, n + 1):
                sel = lab == k
                w[sel] = 1.0 / sel.sum()
            b = ((m - mn) * np.float32(nstrips) / (mx - mn)).astype(np.int64)
            b = np.minimum(b, nstrips - 1) + 1
            top = m >= mx
            pos += np.bincount(b[g], minlength=nb)
            neg += np.bincount(b[~g], minlength=nb)
            wpos += np.bincount(b[g], weights=w[g].astype(np.float64),
                                minlength=nb)
            pos[-1] += (top & g).sum()
            neg[-1] += (top & ~g).sum()
            wpos[-1] += w[top & g].astype(np.float64).sum()
        def curve(stat):
            c = np.cumsum(stat)
            return c[:-1], c[-1]
        fn, P = curve(pos)
        tn, N = curve(neg)
        fnw, W = curve(wpos)
        tp, fp, tpw = P - fn, N - tn, W - fnw
        tpr, fpr, pro = tp / (tp + fn), fp / (fp + tn), tpw / (tpw + fnw)
        prec = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 1.0)
        row = {"category": cat}
        row["p-auroc"] = float(np.trapz(tpr[::-1], fpr[::-1]))
        row["p-ap"] = float(np.trapz(prec[::-1], tpr[::-1]))
        mask = fpr <= limit
        lo_pro, lo_fpr = pro[mask][::-1], fpr[mask][::-1]
        hi_pro, hi_fpr = pro[~mask][::-1], fpr[~mask][::-1]
        lo = float(np.trapz(lo_pro, lo_fpr))
        hi = float(np.trapz(hi_pro, hi_fpr))
        tot = float(np.trapz(pro[::-1], fpr[::-1]))
        t = (limit - lo_fpr[-1]) / (hi_fpr[0] - lo_fpr[-1])
        y1, y2, area = lo_pro[-1], hi_pro[0], tot - (lo + hi)
        ratio = y1 / (y1 + 0.5 * (y2 - y1))
        row["aupro"] = (lo + area * ratio * t + area * (1 - ratio) * t * t) / limit
        # pixel F1 (mF1_max_px)
        allm = np.concatenate([m.ravel() for m in maps_])
        allg = np.concatenate([g.ravel() for g in gts])
        norm = (allm - mn) / (mx - mn)
        best = 0.0
        for th in np.arange(0.0, 1.0 + 1e-3, 0.05):
            pr = norm > th
            inter = np.logical_and(allg, pr).sum()
            p_ = inter / (pr.sum() + 1e-8)
            r_ = inter / (allg.sum() + 1e-8)
            best = max(best, 2 * p_ * r_ / (p_ + r_ + 1e-8))
        row["p-f1max"] = float(best)
        # image level on the 16x16 mean-pooled max
        il = np.array([g.any() for g in gts])
        isc = []
        k = pooling
        for m in maps_:
            h, w = m.shape
            if k is None or h < k or w < k:  # no pooling, or no window
                isc.append(float(m.max()))
                continue
            c = np.zeros((h + 1, w + 1))
            c[1:, 1:] = np.cumsum(np.cumsum(m.astype(np.float64), 0), 1)
            s = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
            isc.append(float(np.float32(s / float(k * k)).max()))
        if 0 < il.sum() < len(il):
            row["i-auroc"] = float(sklearn_metrics().roc_auc_score(il, isc))
        out["categories"].append(row)
    json.dump(out, sys.stdout, indent=1)
    print()


def cmp(ref_path, tool_path, tol):
    tol = float(tol)
    refj = json.load(open(ref_path))
    tool = json.load(open(tool_path))
    bycat = {c["category"]: c for c in tool["categories"]}
    worst, bad, n = 0.0, 0, 0
    for r in refj["categories"]:
        t = bycat.get(r["category"])
        if t is None:
            print("missing category", r["category"])
            bad += 1
            continue
        for key, want in r.items():
            if key in ("category", "aupro32"):
                continue
            got = t.get(key)
            if got is None:
                print(r["category"], key, "missing in tool output")
                bad += 1
                continue
            d = abs(got - want)
            n += 1
            worst = max(worst, d)
            if d > tol:
                print(r["category"], key, "tool", got, "reference", want)
                bad += 1
        if "aupro32" in r and t.get("aupro") is not None:
            d = abs(t["aupro"] - r["aupro32"])
            if d > 1e-6:
                print(r["category"], "aupro vs MVTec float32 FPR", d)
                bad += 1
    print("compared %d values, max deviation %.3g" % (n, worst))
    return 1 if bad else 0


def command(argv):
    """Run one command; its exit status."""
    cmd = argv[0] if argv else ""
    if cmd == "gen":
        gen(*argv[1:5])
    elif cmd == "ref":
        ref(argv[1], argv[2], float(argv[3]) if len(argv) > 3 else 0.3)
    elif cmd == "ader":
        k = argv[3] if len(argv) > 3 else "16"
        ader(argv[1], argv[2], None if k == "none" else int(k))
    elif cmd == "cmp":
        return cmp(*argv[1:4]) or 0
    elif cmd == "batch":
        for line in sys.stdin:
            fields = line.rstrip("\n").split("\t")
            if fields == [""]:
                continue
            out = fields[0] if fields[0] != "-" else os.devnull
            with open(out, "w") as f, contextlib.redirect_stdout(f):
                rc = command(fields[1:])
            with open(fields[0] + ".rc" if fields[0] != "-" else os.devnull, "w") as f:
                f.write("%d\n" % rc)
    else:
        sys.exit("usage: eval_reference.py gen|ref|ader|cmp|batch ...")
    return 0


if __name__ == "__main__":
    sys.exit(command(sys.argv[1:]))
