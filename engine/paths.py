"""Where Impasto keeps its files, per user: one place for the engine and the window alike.

platformdirs knows each platform's convention (QStandardPaths would too, but the engine must
not import Qt). Every folder has an environment variable that replaces it, for tests,
portable installs and users who keep their files elsewhere.

| folder            | variable                     | Linux default                    |
|-------------------|------------------------------|----------------------------------|
| models            | `IMPASTO_MODELS_DIR`         | `~/.local/share/Impasto/models`  |
| bundled models    | `IMPASTO_BUNDLED_MODELS_DIR` | `models/` beside the executable  |
| data (autosave)   | `IMPASTO_DATA_DIR`           | `~/.local/share/Impasto`         |
| preferences       | `IMPASTO_CONFIG_DIR`         | `~/.config/Impasto/Impasto`      |

(`$XDG_DATA_HOME` and `$XDG_CONFIG_HOME` move the Linux defaults, as usual.) The models folder
is not inside `IMPASTO_DATA_DIR`: the two have always been set apart, and a user who points
the data folder elsewhere must not lose the 80 MB models already installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "BUNDLED_MODELS_DIR_ENV",
    "CONFIG_DIR_ENV",
    "DATA_DIR_ENV",
    "MODELS_DIR_ENV",
    "autosave_folder",
    "bundled_models_folder",
    "data_folder",
    "models_folder",
    "preferences_folder",
]

APP_NAME = "Impasto"
MODELS_DIR_ENV = "IMPASTO_MODELS_DIR"
BUNDLED_MODELS_DIR_ENV = "IMPASTO_BUNDLED_MODELS_DIR"
DATA_DIR_ENV = "IMPASTO_DATA_DIR"
CONFIG_DIR_ENV = "IMPASTO_CONFIG_DIR"


def _override(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else None


def data_folder() -> Path:
    """`$IMPASTO_DATA_DIR`, else the per-user data folder: `~/.local/share/Impasto` on Linux,
    `~/Library/Application Support/Impasto` on macOS, `%LOCALAPPDATA%\\Impasto` on Windows."""
    return _override(DATA_DIR_ENV) or platformdirs.user_data_path(APP_NAME, appauthor=False)


def autosave_folder() -> Path:
    """The session the window keeps saving, to pick up after a crash."""
    return data_folder() / "autosave"


def models_folder() -> Path:
    """Where downloads and imports install models: `$IMPASTO_MODELS_DIR`, else `models`
    in the per-user data folder (whatever `$IMPASTO_DATA_DIR` says, see above)."""
    override = _override(MODELS_DIR_ENV)
    return override or platformdirs.user_data_path(APP_NAME, appauthor=False) / "models"


def bundled_models_folder() -> Path:
    """The read-only models of a portable install: `$IMPASTO_BUNDLED_MODELS_DIR`, else
    `models/` beside the frozen executable, or in the repository when run from source."""
    override = _override(BUNDLED_MODELS_DIR_ENV)
    if override:
        return override
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent / "models"
    return Path(__file__).resolve().parent.parent / "models"


def preferences_folder() -> Path:
    """`$IMPASTO_CONFIG_DIR`, else the folder of the preferences file.

    Earlier versions asked Qt (QStandardPaths' AppConfigLocation, with organisation and
    application both "Impasto"), which appends both names: `~/.config/Impasto/Impasto` on
    Linux, `%LOCALAPPDATA%\\Impasto\\Impasto` on Windows. The same folders are kept so existing
    preferences are found. On macOS Qt's base is `~/Library/Preferences`, where platformdirs
    would say `~/Library/Application Support`; Qt's is kept for the same reason.
    """
    override = _override(CONFIG_DIR_ENV)
    if override:
        return override
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Preferences"
    else:
        base = platformdirs.user_config_path()
    return base / APP_NAME / APP_NAME
