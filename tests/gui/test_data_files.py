"""Whatever is in the data folders, the window starts with defaults and a message (issue 17):
preferences, the autosaved session and model manifests all pass engine/datafile.py, and a
preset that cannot run is refused before it reaches the preferences."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from engine.paths import autosave_folder, models_folder, preferences_folder
from engine.settings import RunSettings
from gui.app import create_window
from gui.preferences import DEFAULTS, FILE_NAME, Preferences
from gui.run_settings_state import GUI_DEFAULTS, saved_settings
from tests.engine.test_datafile import dict_near, json_values

GOOD = {**DEFAULTS, "settings": GUI_DEFAULTS.replace(steps=77).to_dict(), "geometry": "AAAA"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_values | dict_near(GOOD))
def test_generated_preferences_load_as_the_right_types_or_are_set_aside(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / FILE_NAME
        path.write_text(json.dumps(data))
        preferences = Preferences(Path(folder))
        kept_aside = list(Path(folder).glob(FILE_NAME + ".bad-*"))
    for key, default in DEFAULTS.items():
        value = preferences.get(key)
        if key == "settings":
            assert value is None or isinstance(value, dict)
        else:
            assert type(value) is type(default), key
    assert isinstance(saved_settings(preferences), RunSettings)
    assert bool(preferences.problem) == bool(kept_aside)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def endless(path: Path) -> None:
    path.symlink_to("/dev/zero")


def text(content: str):
    return lambda path: path.write_text(content)


def prefs_with(**values) -> str:
    return json.dumps({"version": 1, **values})


SETTINGS = GUI_DEFAULTS.to_dict()
BAD_PREFERENCES = {
    "nested": text("[" * 100_000),
    "geometry 5": text(prefs_with(geometry=5)),
    "seed abc": text(prefs_with(settings={**SETTINGS, "seed": "abc"})),
    "seed 2**70": text(prefs_with(settings={**SETTINGS, "seed": 2**70})),
    "snapshot_every x": text(prefs_with(settings={**SETTINGS, "snapshot_every": "x"})),
    "preserve_colors no": text(prefs_with(settings={**SETTINGS, "preserve_colors": "no"})),
    "fifo": fifo,
    "link to /dev/zero": endless,
}


@pytest.mark.parametrize("make", BAD_PREFERENCES.values(), ids=BAD_PREFERENCES.keys())
def test_bad_preferences_start_the_window_with_defaults_and_a_message(qtbot, random_network,
                                                                      make):  # fmt: skip
    folder = preferences_folder()
    folder.mkdir(parents=True, exist_ok=True)
    make(folder / FILE_NAME)
    window = open_window(qtbot, random_network)
    assert window.state.settings == GUI_DEFAULTS
    assert "Settings were reset" in window.messages.text.text()
    assert len(list(folder.glob(FILE_NAME + ".bad-*"))) == 1
    window.close()
    assert Preferences().problem == ""  # the file written at close reads back


BAD_SESSIONS = {
    "nested": text("[" * 100_000),
    "saved_at NaN": text('{"version": 1, "saved_at": NaN, "settings": {}, "styles": 1}'),
    "saved_at Infinity": text('{"version": 1, "saved_at": Infinity, "settings": {}, "styles": 1}'),
    "saved_at 1e300": text('{"version": 1, "saved_at": 1e300, "settings": {}, "styles": 1}'),
    "fifo": fifo,
    "link to /dev/zero": endless,
}


@pytest.mark.parametrize("make", BAD_SESSIONS.values(), ids=BAD_SESSIONS.keys())
def test_a_bad_session_is_set_aside_with_a_message(qtbot, random_network, make):
    folder = autosave_folder()
    folder.mkdir(parents=True)
    make(folder / "session.json")
    window = open_window(qtbot, random_network)
    assert not window.restore_bar.isVisible()
    assert "set aside" in window.messages.text.text()
    assert not folder.exists() and len(list(folder.parent.glob("autosave.damaged-*"))) == 1
    window.close()


@pytest.mark.parametrize("make", [text("[" * 100_000), text('{"size": "x"}'), fifo, endless])
def test_a_bad_manifest_shows_the_model_as_unusable(qtbot, random_network, make):
    folder = models_folder()
    folder.mkdir(parents=True)
    (folder / "vgg19.pth").write_bytes(b"weights")
    make(folder / "vgg19.json")
    window = open_window(qtbot, random_network)
    choice = next(c for c in window.state.models if c.name == "vgg19")
    # A FIFO or a device is not a file: no model there (and no hang); a damaged file says so.
    expected = "not installed" if make in (fifo, endless) else "unreadable manifest"
    assert not choice.installed and expected in choice.problem
    window.close()


@pytest.mark.parametrize(
    "preset",
    [{"seed": "abc"}, {"seed": 2**70}, {"snapshot_every": "x"}, {"preserve_colors": "no"},
     {"style_weight": 1e300}, {"scales": [64, 32], "size": 32}],
)  # fmt: skip
def test_a_preset_that_cannot_run_is_refused_and_never_saved(qtbot, random_network, tmp_path,
                                                             preset):  # fmt: skip
    path = tmp_path / "preset.json"
    path.write_text(json.dumps({**SETTINGS, **preset}))
    window = open_window(qtbot, random_network)
    before = window.state.settings
    assert not window.state.load_preset(str(path))
    assert window.state.settings == before
    key = next(iter(preset))
    assert (
        "not a usable preset" in window.messages.text.text() and key in window.messages.text.text()
    )
    window.close()
    again = Preferences()
    assert again.problem == "" and RunSettings.from_dict(again.get("settings")) == before


def open_window(qtbot, network):
    window = create_window(lambda: network)
    qtbot.addWidget(window)
    window.show()
    return window
