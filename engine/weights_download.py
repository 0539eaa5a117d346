"""Downloading a catalogue model: streamed to a `.part` file with progress, cancel, retries and
resume, capped at the model's published size, then checked against its published hash and
installed (engine/weights_store.py).

Nothing else in Impasto touches the network.
"""

from __future__ import annotations

import http.client
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.catalogue import ModelSpec, model_spec
from engine.paths import models_folder
from engine.vgg import WeightsError, read_state_dict
from engine.weights_store import InstalledModel, disk_errors, install_features, sha256_file

__all__ = ["DownloadCancelled", "ProgressInfo", "check_url", "download"]

CHUNK_SIZE = 1 << 20
# Seconds to wait before each retry of a download that failed on a transient error.
RETRY_DELAYS = (1.0, 3.0, 10.0)
# HTTP statuses worth retrying: the server is overloaded or a proxy hiccuped, not "no such file".
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_USER_AGENT = "Impasto (model weights downloader)"
# A download that trickles never times out (each byte resets the socket's 30 s), so, as curl's
# --speed-limit/--speed-time and --max-time do, it is stopped below a minimum rate kept over a
# window, and after an overall limit: 548 MiB at 10 KiB/s would take 16 hours.
MIN_RATE = 10 * 1024  # bytes per second, averaged over RATE_WINDOW_S
RATE_WINDOW_S = 60.0
TIME_LIMIT_S = 3 * 3600.0  # the whole download, retries included


class DownloadCancelled(WeightsError):
    """The user cancelled a download; the `.part` file is kept so the next download resumes."""


@dataclass(frozen=True)
class ProgressInfo:
    bytes_done: int
    bytes_total: int | None  # None when the server does not say
    bytes_per_second: float

    @property
    def fraction(self) -> float | None:
        return self.bytes_done / self.bytes_total if self.bytes_total else None


class _TransientError(Exception):
    """A download failure worth retrying (dropped connection, timeout, 5xx)."""


@dataclass(frozen=True)
class Pace:
    """How slow a download may be: at least `min_rate` bytes/s over each `window` seconds,
    and finished `time_limit` seconds after it started."""

    min_rate: float
    window: float
    time_limit: float
    started: float = field(default_factory=time.monotonic)

    def check(self, url: str, done: int, since: tuple[float, int]) -> tuple[float, int]:
        """WeightsError if too slow; the start of the rate's current window."""
        now, (started, then) = time.monotonic(), since
        keep = "the part downloaded is kept: run it again to resume, or try another --url"
        if now - self.started > self.time_limit:
            raise WeightsError(f"{url}: the download is taking too long (over "
                               f"{_duration(self.time_limit)}); stopped, {keep}")  # fmt: skip
        if now - started < self.window:
            return since
        if (done - then) / (now - started) < self.min_rate:
            raise WeightsError(f"{url}: the download is too slow (under "
                               f"{self.min_rate / 1024:g} KiB/s for {self.window:g} s); "
                               f"stopped, {keep}")  # fmt: skip
        return now, done


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"


def download(
    name: str,
    progress: Callable[[ProgressInfo], None] | None = None,
    cancel: threading.Event | None = None,
    url: str | None = None,
    *,
    spec: ModelSpec | None = None,
    retry_delays: tuple[float, ...] | None = None,
    timeout: float = 30.0,
    min_rate: float = MIN_RATE,
    rate_window: float = RATE_WINDOW_S,
    time_limit: float = TIME_LIMIT_S,
) -> InstalledModel:
    """Download model `name`, check its hash, and install its features.

    The file streams into `<install folder>/<published name>.part`, resuming it if one is there.
    `progress` is called after each chunk; setting `cancel` stops between chunks with
    DownloadCancelled (the `.part` stays for resuming). `url` replaces the catalogue's URL (a
    mirror; the hash must still match) and `spec` the catalogue entry itself (for tests).
    Transient failures are retried after each of `retry_delays` seconds (default RETRY_DELAYS).
    Slower than `min_rate` bytes/s over `rate_window` s, or longer than `time_limit` s in
    all, it stops with WeightsError (the `.part` stays for resuming).
    """
    spec = spec or model_spec(name)
    retry_delays = RETRY_DELAYS if retry_delays is None else retry_delays
    url = url or spec.url
    check_url(url)
    folder = models_folder()
    part = folder / f"{spec.filename}.part"
    # A mirror (--url) that sends more than the published file must not fill the disk.
    slack = 0 if spec.size_is_exact else spec.download_size // 10 + 2**20
    max_bytes = spec.download_size + slack
    pace = Pace(min_rate, rate_window, time_limit)
    with disk_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
        _fetch_with_retries(url, part, progress, cancel, retry_delays, timeout, max_bytes, pace)
        source_sha256 = sha256_file(part)
    if not spec.matches(source_sha256):
        # A wrong file never becomes right by resuming it, so it goes.
        part.unlink(missing_ok=True)
        expected = spec.sha256 or f"{spec.sha256_prefix}..."
        raise WeightsError(
            f"{url}: checksum mismatch (SHA-256 {source_sha256[:16]}..., expected {expected}); "
            "the download was discarded"
        )
    try:
        features = read_state_dict(part, spec.arch)
    except WeightsError:
        part.unlink(missing_ok=True)  # the published file itself is unusable: do not keep it
        raise
    installed = install_features(features, spec, url, source_sha256)
    part.unlink()
    return installed


def _fetch_with_retries(
    url: str,
    part: Path,
    progress: Callable[[ProgressInfo], None] | None,
    cancel: threading.Event | None,
    retry_delays: tuple[float, ...],
    timeout: float,
    max_bytes: int,
    pace: Pace,
) -> None:
    delays = list(retry_delays)
    while True:
        before = _file_size(part)
        try:
            _fetch(url, part, progress, cancel, timeout, max_bytes, pace)
            return
        except _TransientError as error:
            if _file_size(part) - before >= CHUNK_SIZE:
                # It was getting somewhere: a flaky line gets a fresh set of retries.
                delays = list(retry_delays)
            if not delays:
                raise WeightsError(
                    f"{url}: download failed ({error}); run it again to resume"
                ) from error
            delay = delays.pop(0)
            if cancel is not None:
                if cancel.wait(delay):
                    raise DownloadCancelled(f"{url}: download cancelled") from error
            else:
                time.sleep(delay)


def _fetch(
    url: str,
    part: Path,
    progress: Callable[[ProgressInfo], None] | None,
    cancel: threading.Event | None,
    timeout: float,
    max_bytes: int,
    pace: Pace,
) -> None:
    """One attempt: append the rest of the file to `part`, or raise; never more than
    `max_bytes` in all (WeightsError, and the `.part` goes), never slower than `pace`."""
    _stop_if_cancelled(cancel, url)
    pace.check(url, 0, (time.monotonic(), 0))  # the deadline holds across retries
    offset = _file_size(part)
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:
            # Nothing left to send: the .part is complete (or longer than the file).
            total = _content_range_total(error.headers.get("Content-Range", ""))
            if total == offset:
                return
            part.unlink(missing_ok=True)
            raise _TransientError(
                "the partial download did not fit the file; restarting"
            ) from error
        if error.code in _TRANSIENT_STATUSES:
            raise _TransientError(f"HTTP {error.code} {error.reason}") from error
        raise WeightsError(f"{url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise _TransientError(_reason(error)) from error

    with response:
        if offset and response.status == 206:
            start = _content_range_start(response.headers.get("Content-Range", ""))
            if start != offset:
                part.unlink(missing_ok=True)
                raise _TransientError(f"server resumed at byte {start}, not {offset}; restarting")
            total = _content_range_total(response.headers.get("Content-Range", ""))
            mode = "ab"
        else:
            # A 200 is the whole file: the server ignored the range, or none was asked for.
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            part.unlink(missing_ok=True)
            raise WeightsError(f"{url}: the server offers {total} bytes, more than the "
                               f"{max_bytes} this model has; refused")  # fmt: skip
        if total is not None:
            _check_free_space(part.parent, total - offset, url)

        done, started = offset, time.monotonic()
        window = (started, done)
        with open(part, mode) as out:
            while True:
                _stop_if_cancelled(cancel, url)
                window = pace.check(url, done, window)
                try:
                    chunk = response.read1(CHUNK_SIZE)  # whatever has arrived: cancel stays prompt
                except (OSError, http.client.HTTPException) as error:
                    raise _TransientError(_reason(error)) from error
                if not chunk:
                    break
                if done + len(chunk) > max_bytes:
                    out.close()
                    part.unlink(missing_ok=True)
                    raise WeightsError(f"{url}: the server sent more than the {max_bytes} "
                                       "bytes this model has; stopped and discarded")  # fmt: skip
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    speed = (done - offset) / max(time.monotonic() - started, 1e-6)
                    progress(ProgressInfo(done, total, speed))
    # urllib returns a short body without complaint when the connection drops; check it here.
    if total is not None and done < total:
        raise _TransientError(f"connection closed after {done} of {total} bytes")


def check_url(url: str) -> None:
    """WeightsError unless `url` is an address a download can start from."""
    parts = urllib.parse.urlsplit(url)
    web = parts.scheme in ("http", "https") and parts.netloc
    if not web and not (parts.scheme == "file" and parts.path):
        raise WeightsError(f"{url}: not a URL to download from (give an http://, https:// "
                           "or file:// address)")  # fmt: skip


def _stop_if_cancelled(cancel: threading.Event | None, url: str) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(f"{url}: download cancelled")


def _check_free_space(folder: Path, needed: int, url: str) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise WeightsError(
            f"{url}: not enough disk space in {folder} "
            f"({needed / 2**20:.0f} MiB needed, {free / 2**20:.0f} MiB free)"
        )


def _content_range_start(header: str) -> int | None:
    # "bytes 100-999/1000"
    try:
        return int(header.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _content_range_total(header: str) -> int | None:
    # "bytes 100-999/1000" or "bytes */1000"
    total = header.rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _file_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    text = str(reason).strip()
    return text.splitlines()[0] if text else type(error).__name__
