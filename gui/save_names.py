"""Where the save dialog starts and the name it suggests.

The first save starts in the user's Pictures folder (the program's own folder is no place
for pictures); later saves start where the last one went. A snapshot's name carries its
step, so saving one never suggests the live image's file and overwrites it by accident."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from gui.preferences import Preferences

_NOT_IN_NAMES = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def pictures_folder() -> Path:
    """The user's Pictures folder when it exists, else the home folder."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    if location and Path(location).is_dir():
        return Path(location)
    return Path.home()


def save_start_folder(preferences: Preferences) -> Path:
    """The folder of the last save while it still exists, else Pictures."""
    last = preferences.get("save_folder") or ""
    if last and Path(last).is_dir():
        return Path(last)
    return pictures_folder()


def _stem(label: str) -> str:
    return _NOT_IN_NAMES.sub("_", Path(label).stem).strip(" ._") or "image"


def suggested_name(photo: str | None, paintings: list[str], step: int | None = None) -> str:
    """'photo-painting.png' for the live image, 'photo-painting-step120.png' for the
    snapshot at step 120; several paintings add '-etc'."""
    parts = [_stem(photo)] if photo else []
    if paintings:
        parts.append(_stem(paintings[0]) + ("-etc" if len(paintings) > 1 else ""))
    stem = "-".join(parts) or "impasto"
    if step is not None:
        stem += f"-step{step}"
    return stem + ".png"
