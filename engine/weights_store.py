"""Installed models: where they are looked for, how they are stored, imported and checked.

A downloaded or imported weights file is cut down to its `features.*` tensors (about 80 MB for
VGG19 instead of 548 MB) and stored with a small JSON manifest recording the SHA-256 of the
stored file. Loading checks that hash first and then uses `torch.load(weights_only=True)`, so a
corrupt or tampered file is refused and no code inside a file is ever run.

Where installed models are looked for (first match wins; engine/paths.py has the folders):
1. The models folder (`$IMPASTO_MODELS_DIR`, else the user data folder). Downloads and
   imports are written here.
2. The bundled folder of a portable install (`$IMPASTO_BUNDLED_MODELS_DIR`, else `models/`
   beside the executable). Never written.

An installed model NAME is two files: `NAME.pth` (the features) and `NAME.json` (its manifest).
The manifest is written last, so a model whose manifest is missing is not installed. A new
install is staged complete beside the old one (both files written and flushed), then swapped
in by renames, holding a lock on the models folder. A kill between the renames leaves no
manifest; the store's next start (tidy_store) adopts the staged model then, and removes the
temporary files any killed import left, so the store goes from one whole model to the next.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from engine.catalogue import ModelSpec, how_to_install, known_models, model_spec
from engine.datafile import DataFileError, Field, load_json
from engine.files import (
    FileLock,
    ReadError,
    describe_os_error,
    locked_if_possible,
    move_into_place,
    open_regular,
    resolved,
    set_aside,
    write_temporary,
)
from engine.paths import bundled_models_folder, models_folder
from engine.vgg import WeightsError, read_state_dict

__all__ = [
    "InstallError",
    "InstalledModel",
    "find_cached_torchvision_files",
    "find_installed",
    "import_file",
    "install_features",
    "load_installed",
    "search_folders",
    "sha256_file",
    "verify",
]

MANIFEST_SCHEMA = 1
MAX_MANIFEST_BYTES = 64 * 1024  # a manifest is a few hundred bytes
CHUNK_SIZE = 1 << 20


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


class InstallError(WeightsError):
    """Storing a model failed (disk full, folder not writable); what was installed is kept."""


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
    def name(self) -> str:
        """The catalogue name ("vgg19"): what the user asked for, never the file's name."""
        return self.spec.name

    @property
    def manifest_path(self) -> Path:
        return self.path.with_suffix(".json")

    @property
    def is_published_file(self) -> bool:
        """Whether it was made from the published file (an import may be some other copy)."""
        return self.spec.matches(self.source_sha256)


def search_folders() -> list[Path]:
    """The folders searched for installed models, in lookup order."""
    return [models_folder(), bundled_models_folder()]


# --- reading ---------------------------------------------------------------------------------


def find_installed(name: str) -> InstalledModel | None:
    """The installed copy of model `name`, or None. Fast: reads the manifest, not the weights."""
    spec = model_spec(name)
    tidy_store()
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
    digest = sha256_file(path)
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
        if manifest.parent == models_folder():  # the bundled folder is never written
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


# --- storing ---------------------------------------------------------------------------------


def install_features(
    features: dict[str, torch.Tensor], spec: ModelSpec, source: str, source_sha256: str
) -> InstalledModel:
    """Install the features as model `spec.name`; any failure leaves the installed one as it was."""
    folder = models_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _store_lock(folder):
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
            sha256=sha256_file(staged),
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
        move_into_place(staged, target)
        move_into_place(staged_manifest, manifest)
    finally:
        staged.unlink(missing_ok=True)
        if staged_manifest is not None:
            staged_manifest.unlink(missing_ok=True)
    return installed


# What Impasto's atomic writer names its temporary files here: `.vgg19.pth.k3j9x_2a.tmp`.
_OWN_TEMPORARY = re.compile(r"\.[\w.-]+\.(pth|json)\.[a-z0-9_]{8}\.tmp")


def _store_lock(folder: Path) -> AbstractContextManager[None]:
    """Hold the models folder's lock: the folder itself, so no lock file sits among the
    models. Where a folder cannot be locked (Windows) the install goes on unlocked."""
    return locked_if_possible(folder)


def tidy_store() -> None:
    """Finish or undo what a killed import or download left in the models folder: a model
    whose manifest went before its staged one came is adopted (its staged manifest and the
    file whose hash it records are renamed into place); every other temporary file of ours
    goes. Skipped while another process installs (it holds the lock), and where the folder
    cannot be locked (Windows), so a live install's files are never taken from it."""
    folder = models_folder()
    try:
        temporaries = [p for p in folder.glob(".*.tmp") if _OWN_TEMPORARY.fullmatch(p.name)]
        if not temporaries:
            return
        lock = FileLock(folder)
        if not lock.acquire(wait=False):
            return
    except OSError:
        return
    try:
        for spec in known_models():
            _adopt_staged(folder, spec.name)
        for temporary in folder.glob(".*.tmp"):
            if _OWN_TEMPORARY.fullmatch(temporary.name):
                temporary.unlink(missing_ok=True)
    except OSError:  # a read-only folder, say: what is installed is still found
        pass
    finally:
        lock.release()


def _adopt_staged(folder: Path, name: str) -> None:
    manifest, target = folder / f"{name}.json", folder / f"{name}.pth"
    if manifest.exists():
        return
    for staged in folder.glob(f"{glob.escape(f'.{name}.json.')}*.tmp"):
        try:
            record = load_json(staged, MANIFEST_FIELDS, MAX_MANIFEST_BYTES)
        except DataFileError:  # half written when the import was killed
            continue
        for features in [target, *folder.glob(f"{glob.escape(f'.{name}.pth.')}*.tmp")]:
            if (features.is_file() and features.stat().st_size == record["size"]
                    and sha256_file(features) == record["sha256"]):  # fmt: skip
                os.replace(features, target)
                os.replace(staged, manifest)  # the manifest last, as an install does
                return


@contextmanager
def disk_errors(where: Path) -> Iterator[None]:
    """Report a file system failure (folder not writable, disk full) as a WeightsError."""
    try:
        yield
    except OSError as error:
        raise WeightsError(f"{where}: {describe_os_error(error)}") from error


def sha256_file(path: Path) -> str:
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
    try:
        open_regular(path).close()  # a regular file, or one line saying why not
    except ReadError as error:
        raise WeightsError(str(error)) from None
    with disk_errors(path):
        source_sha256 = sha256_file(path)
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
    return install_features(features, spec, str(resolved(path)), source_sha256)


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
