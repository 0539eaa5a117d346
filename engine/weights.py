"""Model weights: the catalogue of known VGG files, where they live, and how they get there.

Impasto needs ImageNet-trained VGG weights that no package ships. They are fetched once (downloaded,
or imported from a file the user already has), cut down to the `features.*` tensors (about 80 MB for
VGG19 instead of 548 MB) and stored with a small JSON manifest recording the SHA-256 of the stored
file. Loading checks that hash first and then uses `torch.load(weights_only=True)`, so a corrupt or
tampered file is refused and no code inside a file is ever run.

Where installed models are looked for (first match wins):
1. `$IMPASTO_MODELS_DIR` if set, otherwise the user data folder:
   Linux `$XDG_DATA_HOME/Impasto/models` (by default `~/.local/share/Impasto/models`),
   macOS `~/Library/Application Support/Impasto/models`, Windows `%LOCALAPPDATA%\\Impasto\\models`.
   Downloads and imports are written here.
2. The bundled folder of a portable install: `$IMPASTO_BUNDLED_MODELS_DIR` if set, otherwise
   `models/` next to the frozen executable (or the repository root when run from source).
   Never written.

An installed model NAME is two files: `NAME.pth` (the features) and `NAME.json` (its manifest). The
manifest is written last, so a model whose manifest is missing is not installed.

Nothing here touches the network except `download`.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import torch

from engine.datafile import DataFileError, Field, load_json
from engine.files import describe_os_error, set_aside, write_temporary
from engine.vgg import WeightsError, read_state_dict

__all__ = [
    "DownloadCancelled",
    "InstallError",
    "InstalledModel",
    "ModelSpec",
    "ProgressInfo",
    "WeightsError",
    "default_model_name",
    "download",
    "find_cached_torchvision_files",
    "find_installed",
    "how_to_install",
    "import_file",
    "install_folder",
    "known_models",
    "load_installed",
    "model_spec",
    "search_folders",
    "verify",
]

CATALOGUE_FILE = Path(__file__).with_name("models.json")
MODELS_DIR_ENV = "IMPASTO_MODELS_DIR"
BUNDLED_MODELS_DIR_ENV = "IMPASTO_BUNDLED_MODELS_DIR"
APP_NAME = "Impasto"
MANIFEST_SCHEMA = 1
MAX_MANIFEST_BYTES = 64 * 1024  # a manifest is a few hundred bytes


def _sha256_text(text: str) -> str | None:
    ok = len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    return None if ok else "must be a SHA-256 in hex"


# What a manifest's keys may hold (engine/datafile.py); others are ignored.
MANIFEST_FIELDS = {
    "arch": Field("text", required=True, max_length=32),
    "preprocessing": Field("text", required=True, max_length=32),
    "sha256": Field("text", required=True, check=_sha256_text),
    "size": Field("int", 1, 2**40, required=True),
    "source": Field("text", required=True),
    "source_sha256": Field("text", required=True, check=_sha256_text),
}

CHUNK_SIZE = 1 << 20
# Seconds to wait before each retry of a download that failed on a transient error.
RETRY_DELAYS = (1.0, 3.0, 10.0)
# HTTP statuses worth retrying: the server is overloaded or a proxy hiccuped, not "no such file".
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_USER_AGENT = "Impasto (model weights downloader)"


class InstallError(WeightsError):
    """Storing a model failed (disk full, folder not writable); what was installed is kept."""


class DownloadCancelled(WeightsError):
    """The user cancelled a download; the `.part` file is kept so the next download resumes."""


@dataclass(frozen=True)
class ModelSpec:
    """One known weights file, as published."""

    name: str
    title: str
    arch: str
    preprocessing: str
    url: str
    sha256_prefix: str
    sha256: str | None  # the full hash, where one is published
    download_size: int
    size_is_exact: bool
    source: str

    @property
    def filename(self) -> str:
        """The published file name (torch.hub caches the file under this name)."""
        return self.url.rsplit("/", 1)[-1]

    def matches(self, sha256: str) -> bool:
        """Whether a file with this SHA-256 is the published file."""
        return sha256 == self.sha256 if self.sha256 else sha256.startswith(self.sha256_prefix)


@dataclass(frozen=True)
class Catalogue:
    default: str
    models: tuple[ModelSpec, ...]


@dataclass(frozen=True)
class InstalledModel:
    """A stored features file and what its manifest says about it."""

    spec: ModelSpec
    path: Path
    sha256: str
    size: int
    source: str  # the URL or file it came from
    source_sha256: str  # the SHA-256 of that download or file, before the features were extracted

    @property
    def manifest_path(self) -> Path:
        return self.path.with_suffix(".json")

    @property
    def is_published_file(self) -> bool:
        """Whether it was made from the published file (an import may be some other copy)."""
        return self.spec.matches(self.source_sha256)


@dataclass(frozen=True)
class ProgressInfo:
    bytes_done: int
    bytes_total: int | None  # None when the server does not say
    bytes_per_second: float

    @property
    def fraction(self) -> float | None:
        return self.bytes_done / self.bytes_total if self.bytes_total else None


# --- catalogue -------------------------------------------------------------------------------


def load_catalogue(path: Path) -> Catalogue:
    data = load_json(path, None, MAX_MANIFEST_BYTES)  # shipped with Impasto, read the same way
    fields = ModelSpec.__dataclass_fields__
    models = tuple(ModelSpec(**{k: v for k, v in m.items() if k in fields}) for m in data["models"])
    return Catalogue(default=data["default"], models=models)


@cache
def _catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE_FILE)


def known_models() -> list[ModelSpec]:
    return list(_catalogue().models)


def default_model_name() -> str:
    return _catalogue().default


def model_spec(name: str) -> ModelSpec:
    for spec in _catalogue().models:
        if spec.name == name:
            return spec
    names = ", ".join(spec.name for spec in _catalogue().models)
    raise WeightsError(f"unknown model {name!r}; known models: {names}")


def how_to_install(name: str) -> str:
    """One line telling the user how to get model `name` (for "not installed" messages)."""
    spec = model_spec(name)
    return (
        f"model {name} is not installed; download it once with "
        f"`python main.py weights download {name}` (about {spec.download_size / 2**20:.0f} MiB), "
        f"or import a copy of {spec.filename} with `python main.py weights import FILE --as {name}`"
    )


# --- folders ---------------------------------------------------------------------------------


def platform_data_folder(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """The per-user application data folder for Impasto, by platform convention."""
    if platform == "win32":
        base = environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
    elif platform == "darwin":
        base = str(home / "Library" / "Application Support")
    else:
        base = environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    return Path(base) / APP_NAME


def user_models_folder() -> Path:
    return platform_data_folder(sys.platform, os.environ, Path.home()) / "models"


def install_folder() -> Path:
    """Where downloads and imports go: `$IMPASTO_MODELS_DIR`, else the user data folder."""
    override = os.environ.get(MODELS_DIR_ENV)
    return Path(override).expanduser() if override else user_models_folder()


def bundled_models_folder() -> Path:
    override = os.environ.get(BUNDLED_MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent / "models"
    return Path(__file__).resolve().parent.parent / "models"


def search_folders() -> list[Path]:
    """The folders searched for installed models, in lookup order."""
    return [install_folder(), bundled_models_folder()]


# --- installed models ------------------------------------------------------------------------


def find_installed(name: str) -> InstalledModel | None:
    """The installed copy of model `name`, or None. Fast: reads the manifest, not the weights."""
    spec = model_spec(name)
    for folder in search_folders():
        manifest = folder / f"{name}.json"
        if manifest.is_file() and (folder / f"{name}.pth").is_file():
            return _read_manifest(manifest, spec)
    return None


def verify(name: str) -> InstalledModel:
    """Check the installed model's hash, size and tensors; raise WeightsError if anything is off."""
    installed = _require_installed(name)
    _read_verified(installed)
    return installed


def load_installed(name: str) -> tuple[dict[str, torch.Tensor], ModelSpec]:
    """The features state dict of an installed model, after checking its hash."""
    installed = _require_installed(name)
    return _read_verified(installed), installed.spec


def _require_installed(name: str) -> InstalledModel:
    installed = find_installed(name)
    if installed is None:
        raise WeightsError(how_to_install(name))
    return installed


def _read_verified(installed: InstalledModel) -> dict[str, torch.Tensor]:
    path = installed.path
    size = path.stat().st_size
    if size != installed.size:
        raise WeightsError(
            f"{path}: size {size} bytes differs from its manifest ({installed.size}); "
            "the file is damaged; delete it and download or import the model again"
        )
    digest = _sha256_file(path)
    if digest != installed.sha256:
        raise WeightsError(
            f"{path}: SHA-256 {digest[:16]}... differs from its manifest "
            f"({installed.sha256[:16]}...); the file is damaged or was changed; "
            "delete it and download or import the model again"
        )
    # The hash only proves the file is what was stored; weights_only still guards against pickles.
    return read_state_dict(path, installed.spec.arch)


def _read_manifest(manifest: Path, spec: ModelSpec) -> InstalledModel:
    try:
        data = load_json(manifest, MANIFEST_FIELDS, MAX_MANIFEST_BYTES)
    except DataFileError as error:
        reason = str(error).removeprefix(f"{manifest}: ")
        kept = ""
        if manifest.parent == install_folder():  # the bundled folder is never written
            try:
                kept = f"; set aside as {set_aside(manifest, label='bad').name}"
            except OSError:
                pass
        raise WeightsError(
            f"{manifest}: unreadable manifest ({reason}){kept}; "
            f"import or download {spec.name} again"
        ) from None
    installed = InstalledModel(
        spec=spec,
        path=manifest.with_suffix(".pth"),
        sha256=data["sha256"],
        size=data["size"],
        source=data["source"],
        source_sha256=data["source_sha256"],
    )
    recorded = (data["arch"], data["preprocessing"])
    if recorded != (spec.arch, spec.preprocessing):
        raise WeightsError(
            f"{manifest}: records {recorded[0]} with {recorded[1]} preprocessing, "
            f"but {spec.name} is {spec.arch} with {spec.preprocessing}"
        )
    return installed


def _store(
    features: dict[str, torch.Tensor], spec: ModelSpec, source: str, source_sha256: str
) -> InstalledModel:
    """Install the features as model `spec.name`; any failure leaves the installed one as it was."""
    folder = install_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return _write_model(features, spec, source, source_sha256, folder)
    except OSError as error:
        raise InstallError(
            f"{folder}: could not install {spec.name} ({describe_os_error(error)}); "
            "any model installed before is unchanged"
        ) from error


def _write_model(
    features: dict[str, torch.Tensor],
    spec: ModelSpec,
    source: str,
    source_sha256: str,
    folder: Path,
) -> InstalledModel:
    """Write the new model beside the old one, check it, and only then swap it in."""
    target, manifest = folder / f"{spec.name}.pth", folder / f"{spec.name}.json"
    # clone(): a view would drag its whole storage (the 400 MB classifier, say) into the file.
    compact = {key: tensor.clone().contiguous() for key, tensor in features.items()}
    # Serialised in memory, then written as plain bytes: torch.save straight to a file turns
    # a full disk into an opaque RuntimeError; a plain write raises OSError(ENOSPC).
    buffer = io.BytesIO()
    torch.save(compact, buffer)
    staged = write_temporary(target, buffer.getvalue())
    staged_manifest = None
    try:
        read_state_dict(staged, spec.arch)  # what is on disk reads back as this model
        installed = InstalledModel(
            spec=spec,
            path=target,
            sha256=_sha256_file(staged),
            size=staged.stat().st_size,
            source=source,
            source_sha256=source_sha256,
        )
        record = {
            "schema": MANIFEST_SCHEMA,
            "name": spec.name,
            "arch": spec.arch,
            "preprocessing": spec.preprocessing,
            "sha256": installed.sha256,
            "size": installed.size,
            "source": source,
            "source_sha256": source_sha256,
            "installed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        staged_manifest = write_temporary(manifest, json.dumps(record, indent=2) + "\n")
        # Both files are complete: swap them in with renames, which need no space. The old
        # manifest goes first, so a crash between the renames leaves "not installed", never
        # a manifest describing another file (a model must never look installed while its
        # file is replaced).
        manifest.unlink(missing_ok=True)
        os.replace(staged, target)
        os.replace(staged_manifest, manifest)
    finally:
        staged.unlink(missing_ok=True)
        if staged_manifest is not None:
            staged_manifest.unlink(missing_ok=True)
    return installed


@contextmanager
def _disk_errors(where: Path) -> Iterator[None]:
    """Report a file system failure (folder not writable, disk full) as a WeightsError."""
    try:
        yield
    except OSError as error:
        raise WeightsError(f"{where}: {describe_os_error(error)}") from error


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


# --- import ----------------------------------------------------------------------------------


def import_file(path: str | Path, name: str | None = None) -> InstalledModel:
    """Install the features of a `.pth` file the user already has, as model `name`.

    Without a name, the file's hash picks the model when it is a published file; otherwise it is
    taken as torchvision VGG19, or VGG16 if it is not VGG19 (Caffe weights need a name).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    with _disk_errors(path):
        source_sha256 = _sha256_file(path)
    published = next((spec for spec in known_models() if spec.matches(source_sha256)), None)
    if name is not None:
        spec = model_spec(name)
        if published is not None and published.name != spec.name:
            # Same shapes, different preprocessing: importing it under the wrong name would
            # silently give poor results, so say what the file really is.
            raise WeightsError(
                f"{path}: this is the published {published.filename}, model {published.name}; "
                f"import it as {published.name}, not {spec.name}"
            )
        features = read_state_dict(path, spec.arch)
    elif published is not None:
        spec, features = published, read_state_dict(path, published.arch)
    else:
        spec, features = _read_as_vgg19_or_vgg16(path)
    return _store(features, spec, source=str(path.resolve()), source_sha256=source_sha256)


def _read_as_vgg19_or_vgg16(path: Path) -> tuple[ModelSpec, dict[str, torch.Tensor]]:
    try:
        return model_spec("vgg19"), read_state_dict(path, "vgg19")
    except WeightsError as not_vgg19:
        try:
            return model_spec("vgg16"), read_state_dict(path, "vgg16")
        except WeightsError:
            raise not_vgg19 from None  # most files are VGG19; its complaint is the useful one


def find_cached_torchvision_files() -> list[tuple[ModelSpec, Path]]:
    """Known weights files already in the torch hub cache (`~/.cache/torch/hub/checkpoints`)."""
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    found = [(spec, checkpoints / spec.filename) for spec in known_models()]
    return [(spec, path) for spec, path in found if path.is_file()]


# --- download --------------------------------------------------------------------------------


class _TransientError(Exception):
    """A download failure worth retrying (dropped connection, timeout, 5xx)."""


def download(
    name: str,
    progress: Callable[[ProgressInfo], None] | None = None,
    cancel: threading.Event | None = None,
    url: str | None = None,
    *,
    spec: ModelSpec | None = None,
    retry_delays: tuple[float, ...] | None = None,
    timeout: float = 30.0,
) -> InstalledModel:
    """Download model `name`, check its hash, and install its features.

    The file streams into `<install folder>/<published name>.part`, resuming it if one is there.
    `progress` is called after each chunk; setting `cancel` stops between chunks with
    DownloadCancelled (the `.part` stays for resuming). `url` replaces the catalogue's URL (a
    mirror; the hash must still match) and `spec` the catalogue entry itself (for tests).
    Transient failures are retried after each of `retry_delays` seconds (default RETRY_DELAYS).
    """
    spec = spec or model_spec(name)
    retry_delays = RETRY_DELAYS if retry_delays is None else retry_delays
    url = url or spec.url
    folder = install_folder()
    part = folder / f"{spec.filename}.part"
    # A mirror (--url) that sends more than the published file must not fill the disk.
    slack = 0 if spec.size_is_exact else spec.download_size // 10 + 2**20
    max_bytes = spec.download_size + slack
    with _disk_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
        _fetch_with_retries(url, part, progress, cancel, retry_delays, timeout, max_bytes)
        source_sha256 = _sha256_file(part)
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
    installed = _store(features, spec, url, source_sha256)
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
) -> None:
    delays = list(retry_delays)
    while True:
        before = _file_size(part)
        try:
            _fetch(url, part, progress, cancel, timeout, max_bytes)
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
) -> None:
    """One attempt: append the rest of the file to `part`, or raise; never more than
    `max_bytes` in all (WeightsError, and the `.part` goes)."""
    _stop_if_cancelled(cancel, url)
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
        with open(part, mode) as out:
            while True:
                _stop_if_cancelled(cancel, url)
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
