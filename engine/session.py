"""Sessions: everything needed to pick up an evening's work after a crash.

A session is a folder: `session.json` (schema version, settings, labels, iteration) beside
PNG copies of the inputs, the latest image and the snapshots. Images are copied rather
than referenced, so a moved or deleted original does not lose the work, and nothing read
back is trusted as a path. `session.json` is written last and atomically: a folder whose
JSON is missing or damaged is not a session (it is set aside, never half-restored).

Saves and reads of one folder take turns, across processes too (a lock file beside it,
`NAME.lock`): two windows, or a window and `batch --from-session` reading its autosave, never
collide on the swap's `.new` folder, and a reader never sees a half-swapped session.
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from engine.datafile import DataFileError, Field, field_problem, load_json
from engine.files import (  # noqa: F401 (MAX_SET_ASIDE, set_aside re-exported)
    MAX_SET_ASIDE,
    locked_if_possible,
    set_aside,
    write_atomically,
)
from engine.images import ImageError, load_image, save_image
from engine.paths import autosave_folder
from engine.region_files import session_files, session_regions
from engine.regions import MAX_REGIONS, Region
from engine.settings import RunSettings
from engine.vgg import PREPROCESSINGS

SESSION_VERSION = 1
MAX_JSON_BYTES = 1_000_000  # a session or preset is a few kB; refuse anything absurd
MAX_SNAPSHOTS = 200
_STEP = Field("int", 0, 10**9)
# session.json: what each key may hold. saved_at is shown as a date: NaN or 1e300 would
# make that fail, so it must be a time from 1970 to 2286.
SESSION_SCHEMA = {
    "version": Field("int", required=True),
    "saved_at": Field("number", 0, 1e10),
    "settings": Field("object", required=True),
    "content_label": Field("text"),
    "style_labels": Field("list", max_length=64),
    "styles": Field("int", 1, 64, required=True),
    "iteration": _STEP,
    "latest": Field("bool"),
    "snapshots": Field("list", max_length=MAX_SNAPSHOTS),
    "regions": Field("list", max_length=MAX_REGIONS),
    # With settings.model, which installed model ran (vgg16 + caffe: vgg16-caffe).
    "preprocessing": Field("text", check=lambda value: None if value in PREPROCESSINGS
                           else f"must be one of {', '.join(PREPROCESSINGS)}"),  # fmt: skip
}


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
    regions: list[Region] = field(default_factory=list)  # masks copied as mask-N.png
    preprocessing: str | None = None  # the model's, with settings.model; None: any installed


def save_session(session: Session, folder: Path | None = None) -> Path:
    """Write `session` as `folder` (default: the autosave folder).

    Everything is written into a fresh sibling folder first, which then replaces the old
    one: a full disk or a crash mid-save leaves the previous session whole. Raises
    OSError or ImageError when the save fails.
    """
    folder = folder or autosave_folder()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with taking_turns(folder):
        return _save(session, folder)


def _save(session: Session, folder: Path) -> Path:
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


def taking_turns(folder: Path) -> AbstractContextManager[None]:
    """Hold `folder`'s lock (`NAME.lock` beside it) while saving or reading it. Where the
    lock cannot be made (a read-only folder, which no one saves into) reading goes on."""
    return locked_if_possible(folder.with_name(folder.name + ".lock"))


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
        for sibling in _siblings(folder):  # half a copy, from a save a kill cut short
            if not (sibling / "session.json").exists():
                shutil.rmtree(sibling, ignore_errors=True)
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
    region_records, mask_images = session_files(session.regions)
    images.update(mask_images)
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
    if region_records:
        record["regions"] = region_records
    if session.preprocessing is not None:
        record["preprocessing"] = session.preprocessing
    write_json(folder / "session.json", record)


def load_session(folder: Path | None = None) -> Session | None:
    """The session in `folder`, None if there is none, SessionError if it is damaged."""
    folder = folder or autosave_folder()
    with taking_turns(folder):
        return _load(folder)


def _load(folder: Path) -> Session | None:
    _recover(folder)
    path = folder / "session.json"
    if not path.exists():
        return None
    record = read_json(path, schema=SESSION_SCHEMA)
    if record["version"] != SESSION_VERSION:
        raise SessionError(f"{path}: unknown session version {record['version']!r}")
    try:
        settings = RunSettings.from_dict(record["settings"])
        style_count = record["styles"]
        snapshot_steps = _steps(record.get("snapshots", []))
        labels = [label for label in record.get("style_labels", []) if isinstance(label, str)]
        session = Session(
            settings=settings,
            content=load_image(folder / "content.png"),
            styles=[load_image(folder / f"style-{i}.png") for i in range(style_count)],
            content_label=record.get("content_label", "photo"),
            style_labels=labels,
            iteration=record.get("iteration", 0),
            latest=load_image(folder / "latest.png") if record.get("latest") else None,
            snapshots=[(n, load_image(folder / f"snapshot-{n}.png")) for n in snapshot_steps],
            saved_at=float(record.get("saved_at", 0)),
            regions=session_regions(record.get("regions", []), folder, style_count),
            preprocessing=record.get("preprocessing"),
        )
    except (ValueError, ImageError) as error:
        raise SessionError(f"{path}: damaged session ({error})") from error
    return session


def discard_session(folder: Path | None = None) -> None:
    """Forget the autosaved session (after a clean exit or when the user declines it)."""
    folder = folder or autosave_folder()
    with taking_turns(folder):
        for path in (folder, *_siblings(folder)):  # a copy left by a crash would come back
            shutil.rmtree(path, ignore_errors=True)


def _steps(items: list) -> list[int]:
    """Snapshot steps: each names a file, so each must be a plain step number."""
    for item in items:
        problem = field_problem(item, _STEP)
        if problem:
            raise ValueError(f"each snapshot step {problem}")
    return list(items)


def read_json(
    path: Path, max_bytes: int = MAX_JSON_BYTES, schema: dict[str, Field] | None = None
) -> dict:
    """A JSON object from `path` through the one data file loader (engine/datafile.py):
    a regular file, bounded in size and depth, checked against `schema` if given."""
    try:
        return load_json(Path(path), schema, max_bytes)
    except DataFileError as error:
        reason = str(error).removeprefix(f"{path}: ")
        raise SessionError(f"{path}: cannot be read ({reason})") from None


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a crash mid-write leaves the old file, never half a file."""
    write_atomically(path, json.dumps(data, indent=2))
