"""Sessions: everything needed to pick up an evening's work after a crash.

A session is a folder: `session.json` (schema version, settings, labels, iteration) beside
PNG copies of the inputs, the latest image and the snapshots. Images are copied rather
than referenced, so a moved or deleted original does not lose the work, and nothing read
back is trusted as a path. `session.json` is written last and atomically: a folder whose
JSON is missing or damaged is not a session (it is set aside, never half-restored).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from engine.files import write_atomically
from engine.images import ImageError, load_image, save_image
from engine.settings import RunSettings

SESSION_VERSION = 1
MAX_JSON_BYTES = 1_000_000  # a session or preset is a few kB; refuse anything absurd
MAX_SNAPSHOTS = 200
MAX_SET_ASIDE = 5  # damaged files kept for inspection, per file
DATA_DIR_ENV = "IMPASTO_DATA_DIR"


class SessionError(ValueError):
    """A session that cannot be read; the message says why in one line."""


@dataclass
class Session:
    settings: RunSettings
    content: Image.Image
    styles: list[Image.Image]
    content_label: str = "photo"
    style_labels: list[str] = field(default_factory=list)
    iteration: int = 0
    latest: Image.Image | None = None
    snapshots: list[tuple[int, Image.Image]] = field(default_factory=list)
    saved_at: float = 0.0


def data_folder() -> Path:
    """`$IMPASTO_DATA_DIR`, else the platform's per-user data folder for Impasto."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from engine.weights import platform_data_folder

    return platform_data_folder(sys.platform, os.environ, Path.home())


def autosave_folder() -> Path:
    return data_folder() / "autosave"


def save_session(session: Session, folder: Path | None = None) -> Path:
    """Write `session` as `folder` (default: the autosave folder).

    Everything is written into a fresh sibling folder first, which then replaces the old
    one: a full disk or a crash mid-save leaves the previous session whole. Raises
    OSError or ImageError when the save fails.
    """
    folder = folder or autosave_folder()
    folder.parent.mkdir(parents=True, exist_ok=True)
    _recover(folder)  # a copy left by a crash is the session until this save replaces it
    fresh, old = _siblings(folder)
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    try:
        _write_session(session, fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def _siblings(folder: Path) -> tuple[Path, Path]:
    """The folders a save writes into (`.new`) and moves the previous session to (`.old`)."""
    return folder.with_name(folder.name + ".new"), folder.with_name(folder.name + ".old")


def _recover(folder: Path) -> None:
    """Put back a complete session left beside `folder` by a crash in the middle of a save.

    A crash between save_session's two renames leaves no `folder`, a complete `.old` and a
    complete `.new`. A copy is complete when it has session.json (written last). The newest
    complete copy becomes `folder`; the next save removes what is left.
    """
    if (folder / "session.json").exists():
        return
    for candidate in _siblings(folder):
        if (candidate / "session.json").exists():
            shutil.rmtree(folder, ignore_errors=True)  # no session.json: not a session
            candidate.rename(folder)
            return


def _write_session(session: Session, folder: Path) -> None:
    images = {"content.png": session.content}
    images.update({f"style-{i}.png": style for i, style in enumerate(session.styles)})
    if session.latest is not None:
        images["latest.png"] = session.latest
    snapshots = session.snapshots[-MAX_SNAPSHOTS:]
    images.update({f"snapshot-{n}.png": image for n, image in snapshots})
    for name, image in images.items():
        save_image(image, folder / name)
    record = {
        "version": SESSION_VERSION,
        "saved_at": time.time(),
        "settings": session.settings.to_dict(),
        "content_label": str(session.content_label)[:200],
        "style_labels": [str(label)[:200] for label in session.style_labels],
        "styles": len(session.styles),
        "iteration": int(session.iteration),
        "latest": session.latest is not None,
        "snapshots": [int(n) for n, _ in snapshots],
    }
    write_json(folder / "session.json", record)


def load_session(folder: Path | None = None) -> Session | None:
    """The session in `folder`, None if there is none, SessionError if it is damaged."""
    folder = folder or autosave_folder()
    _recover(folder)
    path = folder / "session.json"
    if not path.exists():
        return None
    record = read_json(path)
    if record.get("version") != SESSION_VERSION:
        raise SessionError(f"{path}: unknown session version {record.get('version')!r}")
    try:
        settings = RunSettings.from_dict(record["settings"])
        style_count = int(record["styles"])
        snapshot_steps = [int(n) for n in record.get("snapshots", [])][:MAX_SNAPSHOTS]
        labels = [str(label) for label in record.get("style_labels", [])]
        if not 1 <= style_count <= 64:
            raise ValueError(f"{style_count} style images")
        session = Session(
            settings=settings,
            content=load_image(folder / "content.png"),
            styles=[load_image(folder / f"style-{i}.png") for i in range(style_count)],
            content_label=str(record.get("content_label", "photo")),
            style_labels=labels,
            iteration=int(record.get("iteration", 0)),
            latest=load_image(folder / "latest.png") if record.get("latest") else None,
            snapshots=[(n, load_image(folder / f"snapshot-{n}.png")) for n in snapshot_steps],
            saved_at=float(record.get("saved_at", 0)),
        )
    except (KeyError, TypeError, ValueError, ImageError) as error:
        if isinstance(error, SessionError):
            raise
        raise SessionError(f"{path}: damaged session ({error})") from error
    return session


def discard_session(folder: Path | None = None) -> None:
    """Forget the autosaved session (after a clean exit or when the user declines it)."""
    folder = folder or autosave_folder()
    for path in (folder, *_siblings(folder)):  # a copy left by a crash would come back
        shutil.rmtree(path, ignore_errors=True)


def set_aside(path: Path, label: str = "damaged", keep: int = MAX_SET_ASIDE) -> Path | None:
    """Move a damaged file or folder out of the way, keeping it for the user to inspect.

    Each one gets its own time-stamped name (a second one in the same second is numbered),
    so an earlier copy is never overwritten; only the `keep` newest are kept.
    """
    if not path.exists():
        return None
    stem = f"{path.name}.{label}-"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    earlier = sorted(path.parent.glob(f"{glob.escape(stem)}*"), key=lambda p: _aside_order(p, stem))
    # Within one second, count on from the newest (not the first free name: pruning frees
    # old names, and reusing one would file the newest copy as the oldest).
    same_second = [_aside_order(p, stem)[1] for p in earlier if _aside_order(p, stem)[0] == stamp]
    name = f"{stem}{stamp}-{max(same_second) + 1}" if same_second else f"{stem}{stamp}"
    target = path.with_name(name)
    shutil.move(str(path), target)
    kept = [*earlier, target]  # oldest first: the time stamp, then the number within a second
    for old in kept[:-keep] if keep > 0 else []:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    return target


def _aside_order(path: Path, stem: str) -> tuple[str, int]:
    rest = path.name.removeprefix(stem)  # "20250101-120000" or "20250101-120000-2"
    stamp, number = rest[:15], rest[16:]
    return stamp, int(number) if number.isdigit() else 1


def read_json(path: Path, max_bytes: int = MAX_JSON_BYTES) -> dict:
    """A JSON object from `path`, refusing huge, malformed or non-object files."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SessionError(f"{path}: too large to be a settings file ({size} bytes)")
        data = json.loads(path.read_text(encoding="utf-8"))
    except SessionError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise SessionError(f"{path}: cannot be read ({error})") from error
    if not isinstance(data, dict):
        raise SessionError(f"{path}: not a JSON object")
    return data


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a crash mid-write leaves the old file, never half a file."""
    write_atomically(path, json.dumps(data, indent=2))
