"""A real HTTP server on 127.0.0.1 for download tests; nothing leaves the machine.

It serves byte strings by path, answers Range requests as a download resume asks, and on
request fails with a status, drops a response halfway, or trickles a file slowly (so a test
can cancel mid-download).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRICKLE_PIECE = 64 * 1024


class Site:
    """What the test server serves, and a log of what it was asked."""

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.failures: dict[str, list[int]] = {}  # path -> statuses to answer before serving
        self.drop_once: set[str] = set()  # paths whose next response stops halfway
        self.trickle: dict[str, float] = {}  # path -> seconds between 64 KiB pieces
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        site = self.server.site
        site.requests.append((self.path, self.headers.get("Range")))
        failures = site.failures.get(self.path)
        if failures:
            self.send_error(failures.pop(0))
            return
        body = site.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.path in site.drop_once:
            site.drop_once.discard(self.path)
            payload = payload[: len(payload) // 2]  # then the connection closes
        delay = site.trickle.get(self.path)
        if delay is None:
            self.wfile.write(payload)
            return
        for at in range(0, len(payload), TRICKLE_PIECE):
            self.wfile.write(payload[at : at + TRICKLE_PIECE])
            time.sleep(delay)

    def log_message(self, format, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up on purpose (cancel) is not a test failure


@contextmanager
def serving(files: dict[str, bytes]) -> Iterator[QuietServer]:
    """A running server for `files` (path -> bytes); `server.site` steers and logs it."""
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.site = Site(files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def url_of(server: QuietServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"
