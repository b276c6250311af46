# SPDX-License-Identifier: MIT
"""A local HTTP server for the mirad-fetch tests (standard library only).

    fetch_server.py --root DIR [--drive-file FILE] [--lifetime SECONDS]

Binds 127.0.0.1 on an ephemeral port, prints "PORT" on its first stdout
line and serves until the process that started it (the test) is gone, or
until --lifetime seconds have passed if given.  The first path component
selects a behaviour; the rest names a file under --root:

  /ok/NAME          200, or 206 with a correct Content-Range; 416 past the end
  /norange/NAME     ignores Range, always 200
  /wrongrange/NAME  206 starting 100 bytes before the requested offset
  /drop/NAME        first request: half the body, then the connection drops;
                    later requests behave like /ok
  /flaky/NAME       503 (Retry-After: 1) twice, then like /ok
  /429/NAME         429 with Retry-After: 1 once, then like /ok
  /always503/NAME   503 with Retry-After: 1, always
  /404/NAME         404
  /stall/NAME       half the body, then silence until the client hangs up
  /stallatN/NAME    like /ok, but stops sending once byte N of the file
                    is out (a Range request past N: the rest), then silence
                    until the client hangs up: a download caught at an
                    exact byte
  /html/NAME        200 text/html page
  /htmlbytes/NAME   200 application/octet-stream whose body is an HTML page
  /wrongbytes/NAME  the file with one byte flipped (same size)
  /redirect-ftp/NAME  302 to ftp://127.0.0.1/NAME
  /uc?id=ID         Google-Drive-like: the "virus scan warning" page with
                    form#download-form pointing at /download; special ids:
                    quota00000 (the "Too many users" page), loop000000 (a
                    form that leads back to itself), elsewhere00 (a 302 to
                    another host)
  /download?id=ID&confirm=t&uuid=U   the --drive-file with
                    Content-Disposition (Range supported); without confirm=t
                    or a known uuid: the form page again
  /log              the request log so far (one "METHOD PATH RANGE" a line)
"""

import argparse
import http.server
import os
import socketserver
import sys
import threading
import time
import urllib.parse
import uuid

ARGS = None
LOCK = threading.Lock()
COUNTS = {}
UUIDS = set()
LOG = []

QUOTA_PAGE = b"""<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title>
<style>.uc-error-subcaption{color:#777}</style></head><body>
<div class="uc-main"><p class="uc-error-caption">Sorry, you can't view or download this file at this time.</p>
<p class="uc-error-subcaption">Too many users have viewed or downloaded this file recently. Please try accessing the file again later. If the file you are trying to access is particularly large or is shared with many people, it may take up to 24 hours to be able to view or download the file.</p>
</div></body></html>"""


def form_page(host, file_id, confirm=True):
    token = str(uuid.uuid4())
    with LOCK:
        UUIDS.add(token)
    confirm_input = '<input type="hidden" name="confirm" value="t">' if confirm else ""
    return (
        """<!DOCTYPE html><html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"/>
<title>Google Drive - Virus scan warning</title></head><body>
<div class="uc-main"><div id="uc-text"><p class="uc-warning-caption">Google Drive can't scan this file for viruses.</p>
<p class="uc-warning-subcaption"><span class="uc-name-size"><a href="/open?id=%s">MIRAD.zip</a> (1.2G)</span> is too large for Google to scan for viruses. Would you still like to download this file?</p>
<form id="download-form" action="http://%s/download" method="get">
<input type="submit" id="uc-download-link" class="goog-inline-block jfk-button jfk-button-action" value="Download anyway"/>
<input type="hidden" name="id" value="%s"><input type="hidden" name="export" value="download">%s
<input type="hidden" name="uuid" value="%s"><input type="hidden" name="evil" value="x&y">
</form></div></div></body></html>"""
        % (file_id, host, file_id, confirm_input, token)
    ).encode()


def count(key):
    with LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_simple(self, code, body=b"", ctype="text/plain", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_file(self, data, honour_range=True, shift=0, drop=False, stall=False, headers=(),
                  stall_at=None):
        total = len(data)
        rng = self.headers.get("Range")
        start = 0
        if honour_range and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= total:
                self.send_simple(416, b"", headers=[("Content-Range", "bytes */%d" % total)])
                return
            start = max(0, start - shift)
            body = data[start:]
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, total - 1, total))
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if stall_at is not None and start < stall_at:
            self.wfile.write(body[: stall_at - start])
            self.wfile.flush()
            self.wait_for_hangup()
            return
        if stall:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.wait_for_hangup()
            return
        if drop:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def wait_for_hangup(self):
        """Send nothing more until the client closes the connection (the
        test kills or interrupts it): no timer decides what it sees."""
        try:
            while self.connection.recv(4096):
                pass
        except OSError:
            pass
        self.close_connection = True

    def read_file(self, name):
        path = os.path.join(ARGS.root, os.path.basename(name))
        with open(path, "rb") as f:
            return f.read()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        with LOCK:
            LOG.append("GET %s %s" % (self.path, self.headers.get("Range", "-")))
        parts = url.path.strip("/").split("/", 1)
        mode = parts[0]
        name = parts[1] if len(parts) > 1 else ""
        host = self.headers.get("Host", "127.0.0.1")

        if mode == "log":
            with LOCK:
                text = "".join(line + "\n" for line in LOG)
            self.send_simple(200, text.encode())
            return
        if mode == "uc":
            file_id = query.get("id", [""])[0]
            if file_id == "quota00000":
                self.send_simple(200, QUOTA_PAGE, "text/html; charset=utf-8")
            elif file_id == "elsewhere00":
                port = self.server.server_address[1]
                self.send_simple(302, b"", headers=[("Location", "http://127.0.0.2:%d/download?id=x" % port)])
            elif file_id == "loop000000":
                self.send_simple(200, form_page(host, file_id, confirm=False), "text/html; charset=utf-8")
            else:
                self.send_simple(200, form_page(host, file_id), "text/html; charset=utf-8")
            return
        if mode == "download":
            file_id = query.get("id", [""])[0]
            token = query.get("uuid", [""])[0]
            with LOCK:
                known = token in UUIDS
            if query.get("confirm", [""])[0] != "t" or not known:
                self.send_simple(200, form_page(host, file_id, confirm=False), "text/html; charset=utf-8")
                return
            with open(ARGS.drive_file, "rb") as f:
                data = f.read()
            self.send_file(data, headers=[("Content-Disposition", 'attachment; filename="MIRAD.zip"')])
            return
        try:
            data = self.read_file(name)
        except OSError:
            self.send_simple(404, b"not found\n")
            return
        if mode == "ok":
            self.send_file(data)
        elif mode == "stall":
            self.send_file(data, stall=True)
        elif mode.startswith("stallat") and mode[7:].isdigit():
            self.send_file(data, stall_at=int(mode[7:]))
        elif mode == "norange":
            self.send_file(data, honour_range=False)
        elif mode == "wrongrange":
            self.send_file(data, shift=100)
        elif mode == "drop":
            self.send_file(data, drop=count(self.path) == 1)
        elif mode == "flaky":
            if count(self.path) <= 2:
                self.send_simple(503, b"busy\n", headers=[("Retry-After", "1")])
            else:
                self.send_file(data)
        elif mode == "429":
            if count(self.path) == 1:
                self.send_simple(429, b"slow down\n", headers=[("Retry-After", "1")])
            else:
                self.send_file(data)
        elif mode == "always503":
            self.send_simple(503, b"busy\n", headers=[("Retry-After", "1")])
        elif mode == "404":
            self.send_simple(404, b"not found\n")
        elif mode == "html":
            self.send_simple(200, b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html")
        elif mode == "htmlbytes":
            self.send_simple(200, b"\n<!DOCTYPE html><html><body>Sign in</body></html>", "application/octet-stream")
        elif mode == "wrongbytes":
            flipped = bytearray(data)
            flipped[len(flipped) // 2] ^= 0x01
            self.send_file(bytes(flipped))
        elif mode == "redirect-ftp":
            self.send_simple(302, b"", headers=[("Location", "ftp://127.0.0.1/" + name)])
        else:
            self.send_simple(404, b"unknown mode\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def watch_parent(srv, parent):
    """Shut down once the test that started us has gone (we are
    re-parented), so a test that dies leaves no server behind."""
    while os.getppid() == parent:
        time.sleep(0.5)
    srv.shutdown()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--drive-file")
    p.add_argument("--lifetime", type=float, default=0)
    ARGS = p.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    if ARGS.lifetime > 0:
        timer = threading.Timer(ARGS.lifetime, srv.shutdown)
        timer.daemon = True
        timer.start()
    watcher = threading.Thread(target=watch_parent, args=(srv, os.getppid()), daemon=True)
    watcher.start()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
