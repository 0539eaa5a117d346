"""The app's folders (engine/paths.py): where they are by default, and the variables that move
them. The defaults must stay where earlier versions kept the files, or a user's installed
models and preferences would seem to vanish after an update."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine import paths

VARIABLES = ("IMPASTO_MODELS_DIR", "IMPASTO_BUNDLED_MODELS_DIR", "IMPASTO_DATA_DIR",
             "IMPASTO_CONFIG_DIR")  # fmt: skip


@pytest.fixture
def no_overrides(monkeypatch, tmp_path):
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "ann"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path / "ann"


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux defaults")
def test_linux_defaults_are_where_earlier_versions_kept_the_files(no_overrides):
    home = no_overrides
    assert paths.models_folder() == home / ".local/share/Impasto/models"
    assert paths.autosave_folder() == home / ".local/share/Impasto/autosave"
    # QStandardPaths' AppConfigLocation for organisation and application "Impasto".
    assert paths.preferences_folder() == home / ".config/Impasto/Impasto"


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG variables are Linux's")
def test_linux_defaults_follow_the_xdg_variables(no_overrides, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert paths.models_folder() == tmp_path / "data/Impasto/models"
    assert paths.data_folder() == tmp_path / "data/Impasto"
    assert paths.preferences_folder() == tmp_path / "config/Impasto/Impasto"


def test_each_variable_moves_its_folder_alone(no_overrides, monkeypatch, tmp_path):
    before = paths.models_folder(), paths.preferences_folder()
    monkeypatch.setenv("IMPASTO_DATA_DIR", str(tmp_path / "data"))
    assert paths.autosave_folder() == tmp_path / "data" / "autosave"
    # Installed models stay put when only the data folder moves: they are 80 MB each.
    assert (paths.models_folder(), paths.preferences_folder()) == before
    monkeypatch.setenv("IMPASTO_MODELS_DIR", "~/models")
    monkeypatch.setenv("IMPASTO_BUNDLED_MODELS_DIR", str(tmp_path / "bundled"))
    monkeypatch.setenv("IMPASTO_CONFIG_DIR", str(tmp_path / "config"))
    assert paths.models_folder() == no_overrides / "models"  # ~ is the user's home
    assert paths.bundled_models_folder() == tmp_path / "bundled"
    assert paths.preferences_folder() == tmp_path / "config"


def test_the_bundled_folder_of_a_source_checkout_is_in_the_repository(no_overrides):
    assert paths.bundled_models_folder() == Path(paths.__file__).resolve().parent.parent / "models"
