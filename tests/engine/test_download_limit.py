"""A download (a --url mirror) that sends more than the model's published size is stopped
and discarded, so a server that never ends cannot fill the disk (issue 17)."""

from __future__ import annotations

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine import catalogue, paths, weights_download
from engine.vgg import WeightsError

SIZE = 2 * 2**20  # the model's published size in this test


class Endless(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        if self.path == "/says-huge":
            self.send_header("Content-Length", str(10**12))
        self.end_headers()
        try:
            while True:  # zeros for as long as anyone reads
                self.wfile.write(bytes(2**16))
        except OSError:
            pass

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@pytest.fixture
def endless():
    httpd = Server(("127.0.0.1", 0), Endless)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


CASES = [("/endless", "sent more than"), ("/says-huge", "offers 1000000000000 bytes")]


@pytest.mark.parametrize(("path", "message"), CASES)
def test_a_download_larger_than_the_model_is_discarded(tmp_path, monkeypatch, endless, path,
                                                       message):  # fmt: skip
    monkeypatch.setenv(paths.MODELS_DIR_ENV, str(tmp_path / "models"))
    spec = dataclasses.replace(catalogue.model_spec("vgg19"), download_size=SIZE,
                               size_is_exact=True)  # fmt: skip
    with pytest.raises(WeightsError, match=message):
        weights_download.download("vgg19", url=endless + path, spec=spec, retry_delays=())
    assert list((tmp_path / "models").iterdir()) == []  # no .part left to fill the disk
