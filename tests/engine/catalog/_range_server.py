"""A file server with HTTP Range support, run as a child process by download tests (the test
process itself may not listen: the egress policy refuses every bind). Standard library only.

    python _range_server.py DIR --log FILE [--drop-after N] [--digest KIND] [--wrong-digest]
                            [--digest-on-redirect-only] [--ignore-range] [--delay S]

Prints ``port N`` once listening. ``/r/<name>`` answers 302 to ``/<name>`` (as a model hub
redirects to its CDN). ``--drop-after N``: the first response carrying the body sends N bytes
of it and closes the connection. ``--redirect-host H``: the redirect names host H.
``--digest``: x-linked-etag, repr-digest or digest header with the file's sha256
(``--wrong-digest``: of other bytes). Every request is logged as ``METHOD PATH RANGE`` in FILE.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHUNK = 64 * 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("directory", type=Path)
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--drop-after", type=int, default=0)
    ap.add_argument("--digest", choices=["x-linked-etag", "repr-digest", "digest"])
    ap.add_argument("--wrong-digest", action="store_true")
    ap.add_argument("--digest-on-redirect-only", action="store_true")
    ap.add_argument("--ignore-range", action="store_true")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--redirect-host", default="")
    opts = ap.parse_args()
    dropped = threading.Event()
    log_lock = threading.Lock()

    def digest_headers(path: Path) -> dict[str, str]:
        if not opts.digest:
            return {}
        data = b"not the file" if opts.wrong_digest else path.read_bytes()
        raw = hashlib.sha256(data).digest()
        if opts.digest == "x-linked-etag":
            return {"X-Linked-ETag": f'"{raw.hex()}"'}
        b64 = base64.b64encode(raw).decode()
        if opts.digest == "repr-digest":
            return {"Repr-Digest": f"sha-256=:{b64}:"}
        return {"Digest": f"SHA-256={b64}"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            rng = self.headers.get("Range", "-")
            with log_lock, opts.log.open("a") as log:
                log.write(f"GET {self.path} {rng}\n")
            name = self.path.removeprefix("/r/").lstrip("/")
            path = opts.directory / name
            if not path.is_file():
                self.send_error(404)
                return
            if self.path.startswith("/r/"):
                self.send_response(302)
                port = self.server.server_address[1]
                self.send_header(
                    "Location",
                    f"http://{opts.redirect_host}:{port}/{name}"
                    if opts.redirect_host
                    else "/" + name,
                )
                for key, value in digest_headers(path).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            size = path.stat().st_size
            start = 0
            if rng.startswith("bytes=") and not opts.ignore_range:
                start = int(rng[6:].split("-")[0])
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(size - start))
            if not opts.digest_on_redirect_only:
                for key, value in digest_headers(path).items():
                    self.send_header(key, value)
            self.end_headers()
            limit = size - start
            if opts.drop_after and not dropped.is_set():
                dropped.set()
                limit = opts.drop_after
            with path.open("rb") as fh:
                fh.seek(start)
                sent = 0
                while sent < limit:
                    block = fh.read(min(CHUNK, limit - sent))
                    if not block:
                        break
                    try:
                        self.wfile.write(block)
                    except OSError:
                        return
                    sent += len(block)
                    if opts.delay:
                        time.sleep(opts.delay)
            if sent < size - start:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
