"""User preferences: a small versioned JSON file in the platform's config folder
(engine/paths.py says which).

Run parameters are not preferences; the last RunSettings are stored here only so the
next launch starts where the artist left off. A corrupt file is moved aside (as
`preferences.json.bad-<time>`, the few newest kept) and the defaults are used, so a bad
file never stops the app from starting.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.datafile import Field
from engine.files import describe_os_error, write_atomically
from engine.paths import preferences_folder
from engine.session import read_json, set_aside
from engine.settings import RunSettings
from gui.recent_files import RECENT_RULE

SCHEMA_VERSION = 1
MAX_BYTES = 256_000  # a preferences file is a few kB
FILE_NAME = "preferences.json"
DEFAULTS = {
    "version": SCHEMA_VERSION,
    "open_folder": "",
    "save_folder": "",
    "preset_folder": "",
    "geometry": "",  # base64 of QMainWindow.saveGeometry()
    "settings": None,  # the last RunSettings.to_dict()
    "preset": "",  # the preset those settings started from
    "model": "",  # the catalogue model chosen in the window (engine/models.json)
    "recent_files": [],  # [kind, path] pairs, newest first (gui/recent_files.py)
}
# base64 of Qt's saved geometry. (A "window_state" was saved too, read by nothing: dropped;
# an old file's copy is ignored, as unknown keys are.)
_STATE = Field("text", max_length=65_536)
SCHEMA = {
    "version": Field("int", required=True),
    "open_folder": Field("text"),
    "save_folder": Field("text"),
    "preset_folder": Field("text"),
    "geometry": _STATE,
    "settings": Field("object", nullable=True),  # checked in full by RunSettings.from_dict
    "preset": Field("text", max_length=200),
    "model": Field("text", max_length=200),
    "recent_files": RECENT_RULE,
}


class Preferences:
    def __init__(self, folder: Path | None = None):
        self.path = (folder or preferences_folder()) / FILE_NAME
        self.values = dict(DEFAULTS)
        self.problem = ""  # why the file was not used, for a message in the window
        self._load()

    def get(self, key: str):
        return self.values.get(key, DEFAULTS.get(key))

    def set(self, key: str, value) -> None:
        """Change a preference, on disk at once: a crash (kill -9) must not lose the recent
        files or the model chosen (a few hundred bytes, written atomically)."""
        if self.values.get(key) != value:
            self.values[key] = value
            self.save()

    def save(self) -> None:
        """Write atomically; failing to save preferences is never worth a crash."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps(self.values, indent=2, sort_keys=True))
        except OSError as error:
            reason = describe_os_error(error)
            self.problem = f"could not save preferences to {self.path}: {reason}"

    def _load(self) -> None:
        if not os.path.lexists(self.path):  # a dangling link is a bad file, not no file
            return
        try:
            data = read_json(self.path, MAX_BYTES, SCHEMA)  # the one data file loader
            if data["version"] != SCHEMA_VERSION:
                raise ValueError("unknown format")
            if data.get("settings") is not None:
                # Settings that cannot run would fail at every launch: refuse the file now.
                RunSettings.from_dict(data["settings"])
        except (OSError, ValueError) as error:
            self._move_aside(error)
            return
        self.values.update(data)

    def _move_aside(self, error: Exception) -> None:
        reason = str(error).removeprefix(f"{self.path}: ")
        if reason.startswith("cannot be read (") and reason.endswith(")"):
            reason = reason[len("cannot be read (") : -1]  # "unreadable (cannot be read" twice
        try:
            # Each bad file keeps its own name: a second one must not overwrite the first.
            aside = set_aside(self.path, label="bad")
            self.problem = f"the preferences file was unreadable ({reason}); kept as {aside}"
        except OSError:
            self.problem = f"the preferences file {self.path} was unreadable ({reason})"
