# SPDX-License-Identifier: MIT
"""Write the malicious and broken archives of the mirad-fetch tests.

    fetch_corpus.py DIR OUTSIDE

Every archive goes into DIR; OUTSIDE is a folder outside any extraction
area that the archives try to reach (the test checks it stays unchanged).
Prints one line per archive: "FILE<TAB>REGEX", where REGEX is what
mirad-fetch's error message must match.
"""

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile


def tar_with(path, members, fmt=tarfile.PAX_FORMAT):
    """members: list of (TarInfo, bytes or None)."""
    with tarfile.open(path, "w", format=fmt) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)


def reg(name, data=b"x\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return (info, data)


def special(name, kind, **kw):
    info = tarfile.TarInfo(name)
    info.type = kind
    for k, v in kw.items():
        setattr(info, k, v)
    return (info, None)


class NoSeek(io.RawIOBase):
    """A write-only, non-seekable stream: zipfile then writes data
    descriptors and leaves the sizes out of the local headers."""

    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


def main():
    out, outside = sys.argv[1], sys.argv[2]
    outside_file = os.path.join(outside, "canary.txt")
    rows = []

    def add(name, regex):
        rows.append("%s\t%s" % (name, regex))

    def p(name):
        return os.path.join(out, name)

    tar_with(p("dotdot.tar"), [reg("ok/a.txt"), reg("ok/../../escape.txt")])
    add("dotdot.tar", "'\\.\\.' component")

    with zipfile.ZipFile(p("dotdot.zip"), "w") as z:
        z.writestr("ok/a.txt", "x")
        z.writestr("../escape_zip.txt", "x")
    add("dotdot.zip", "escape_zip.txt: '\\.\\.' component")

    tar_with(p("absolute.tar"), [reg(os.path.join(outside, "abs.txt"))])
    add("absolute.tar", "abs.txt: absolute path")

    tar_with(p("symlink.tar"), [special("lnk", tarfile.SYMTYPE, linkname=outside), reg("lnk/pwned.txt")])
    add("symlink.tar", "lnk: symbolic link refused")

    tar_with(p("symlink_etc.tar"), [reg("a.txt"), special("passwd", tarfile.SYMTYPE, linkname="/etc/passwd")])
    add("symlink_etc.tar", "passwd: symbolic link refused")

    tar_with(p("hardlink.tar"), [special("h", tarfile.LNKTYPE, linkname=outside_file)])
    add("hardlink.tar", "h: hard link refused")

    # The CVE-2016-5418 shape: a hard link entry that carries data.
    info = tarfile.TarInfo("h2")
    info.type = tarfile.LNKTYPE
    info.linkname = "../" * 8 + outside_file.lstrip("/")
    info.size = 5
    with tarfile.open(p("hardlink_data.tar"), "w", format=tarfile.GNU_FORMAT) as t:
        t.addfile(info, io.BytesIO(b"owned"))
    add("hardlink_data.tar", "h2: hard link refused")

    tar_with(p("duplicate.tar"), [reg("d/a.txt", b"first\n"), reg("d/a.txt", b"second\n")])
    add("duplicate.tar", "d/a.txt: duplicate entry")

    tar_with(p("duplicate_norm.tar"), [reg("d/a.txt"), reg("./d/a.txt")])
    add("duplicate_norm.tar", "d/a.txt: duplicate entry")

    with zipfile.ZipFile(p("duplicate.zip"), "w") as z:
        z.writestr("d/a.txt", "first")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.writestr("d/a.txt", "second")
    add("duplicate.zip", "d/a.txt: duplicate entry")

    tar_with(p("fifo.tar"), [reg("a.txt"), special("pipe", tarfile.FIFOTYPE)])
    add("fifo.tar", "pipe: FIFO refused")

    tar_with(p("device.tar"), [special("null", tarfile.CHRTYPE, devmajor=1, devminor=3)])
    add("device.tar", "null: character device refused")

    tar_with(p("blockdev.tar"), [special("sda", tarfile.BLKTYPE, devmajor=8, devminor=0)])
    add("blockdev.tar", "sda: block device refused")

    # GNU sparse: 1 GiB apparent size in a few KiB.
    if shutil.which("tar"):
        work = p("sparse.d")
        os.mkdir(work)
        with open(os.path.join(work, "big.img"), "wb") as f:
            f.truncate(1 << 30)
            f.seek(1 << 20)
            f.write(b"data")
        subprocess.run(["tar", "--sparse", "-C", work, "-cf", p("sparse.tar"), "big.img"], check=True)
        shutil.rmtree(work)
        add("sparse.tar", "big.img: sparse file refused")

    # Bombs: 64 MiB of zeros.
    zeros = bytes(1 << 20)
    with open(p("bomb.zip"), "wb") as raw:
        with zipfile.ZipFile(NoSeek(raw), "w", compression=zipfile.ZIP_DEFLATED) as z:
            with z.open("zeros.bin", "w") as f:
                for _ in range(64):
                    f.write(zeros)
    add("bomb.zip", "zeros.bin: expands more than [0-9]+ times")

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 64 << 20
        t.addfile(info, io.BytesIO(bytes(64 << 20)))
    with open(p("bomb.tar.gz"), "wb") as f:
        f.write(gzip.compress(buf.getvalue(), 9))
    add("bomb.tar.gz", "zeros.bin: expands more than [0-9]+ times")

    # Truncation: three entries of 1000 bytes; a tar cut right after the
    # first entry's padded data, one cut inside a header, one inside data.
    tar_with(p("full.tar"), [reg("t/a.bin", b"a" * 1000), reg("t/b.bin", b"b" * 1000), reg("t/c.bin", b"c" * 1000)], tarfile.USTAR_FORMAT)
    with open(p("full.tar"), "rb") as f:
        full = f.read()
    os.remove(p("full.tar"))
    with open(p("cut_boundary.tar"), "wb") as f:
        f.write(full[: 512 + 1024])
    add("cut_boundary.tar", "truncated tar archive")
    with open(p("cut_header.tar"), "wb") as f:
        f.write(full[: 512 + 1024 + 100])
    add("cut_header.tar", "[Tt]runcated")
    with open(p("cut_data.tar"), "wb") as f:
        f.write(full[: 512 + 1024 + 512 + 300])
    add("cut_data.tar", "[Tt]runcated")
    damaged = bytearray(full)
    damaged[512 + 1024 + 148] ^= 0x07  # second header's checksum field
    with open(p("bad_checksum.tar"), "wb") as f:
        f.write(bytes(damaged))
    add("bad_checksum.tar", "[Dd]amaged")

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in ("a", "b", "c"):
            z.writestr("z/%s.txt" % n, n * 100)
    data = buf.getvalue()
    cd = data.find(b"PK\x01\x02")
    with open(p("no_central_dir.zip"), "wb") as f:
        f.write(data[:cd])
    add("no_central_dir.zip", "zip archive without its central directory")
    with open(p("no_eocd.zip"), "wb") as f:
        f.write(data[:-22])
    add("no_eocd.zip", "zip archive without its central directory")

    # Name weirdness.
    tar_with(p("longname.tar"), [reg("/".join(c * 250 for c in "vwxyz") + ".txt")])
    add("longname.tar", "name too long")
    tar_with(p("deep.tar"), [reg("/".join(["d"] * 40) + "/f.txt")])
    add("deep.tar", "too many components")
    tar_with(p("backslash.tar"), [reg("a\\..\\..\\b.txt")])
    add("backslash.tar", "backslash in name")
    tar_with(p("control.tar"), [reg("a\x1b[31m.txt")])
    add("control.tar", "a\\?\\[31m.txt: control character in name")
    tar_with(p("emptycomp.tar"), [reg("a//b.txt")])
    add("emptycomp.tar", "empty component in name")

    with open(p("empty.tar"), "wb") as f:
        f.write(bytes(1024))
    add("empty.tar", "empty archive")
    with open(p("notanarchive.tar"), "wb") as f:
        f.write(b"just some text, not an archive\n" * 40)
    add("notanarchive.tar", "[Uu]nrecognized archive format")

    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
