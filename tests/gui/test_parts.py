"""Smaller pieces: preferences, presets, weights and out-of-memory paths."""

from __future__ import annotations

import contextlib
import gc
import json

import pytest
import torch
from PIL import Image
from PySide6.QtCore import QObject, Qt, Signal

import engine.run as run_module
from engine.paths import preferences_folder
from engine.settings import RunSettings
from engine.vgg import WeightsError
from gui import worker as worker_module
from gui.app import create_window
from gui.preferences import FILE_NAME, Preferences
from tests.gui.conftest import drop_files

WAIT_MS = 60_000


def test_preferences_live_in_the_configured_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPASTO_CONFIG_DIR", str(tmp_path))
    assert preferences_folder() == tmp_path
    prefs = Preferences()
    prefs.set("open_folder", "/somewhere")
    prefs.save()
    data = json.loads((tmp_path / FILE_NAME).read_text())
    assert data["version"] == 1 and data["open_folder"] == "/somewhere"
    assert Preferences().get("open_folder") == "/somewhere"


def test_corrupt_preferences_give_defaults_and_move_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPASTO_CONFIG_DIR", str(tmp_path))
    (tmp_path / FILE_NAME).write_text("{ not json")
    prefs = Preferences()
    assert prefs.get("open_folder") == ""
    assert "unreadable" in prefs.problem
    assert len(list(tmp_path.glob(FILE_NAME + ".bad-*"))) == 1
    assert not (tmp_path / FILE_NAME).exists()


def test_a_second_corrupt_preferences_file_keeps_the_first_one(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPASTO_CONFIG_DIR", str(tmp_path))
    problems = []
    for text in ("{ first", "{ second"):
        (tmp_path / FILE_NAME).write_text(text)
        problems.append(Preferences().problem)
    kept = list(tmp_path.glob(FILE_NAME + ".bad-*"))
    assert sorted(p.read_text() for p in kept) == ["{ first", "{ second"]
    assert all(any(f"kept as {p}" in problem for p in kept) for problem in problems)


def test_settings_and_geometry_are_remembered(qtbot, random_network):
    first = create_window(lambda: random_network)
    qtbot.addWidget(first)
    first.state.set_settings(style_weight=5e7, steps=77)
    first.close()
    second = create_window(lambda: random_network)
    qtbot.addWidget(second)
    assert second.state.settings.style_weight == 5e7
    assert second.controls.steps.value() == 77
    assert second.state.preferences.get("geometry")
    second.close()


def test_preset_round_trip(window, tmp_path):
    state = window.state
    state.set_settings(content_weight=3.0, optimizer="adam")
    preset = tmp_path / "preset.json"
    state.save_preset(str(preset))
    state.set_settings(content_weight=1.0, optimizer="lbfgs")
    assert state.load_preset(str(preset))
    assert state.settings.content_weight == 3.0 and state.settings.optimizer == "adam"
    assert window.controls.optimizer.currentData() == "adam"
    bad = tmp_path / "bad.json"
    bad.write_text('{"steps": -5}')
    assert not state.load_preset(str(bad))
    assert "not a usable preset" in window.messages.text.text()


def test_controls_write_to_the_state(window):
    controls, state = window.controls, window.state
    controls.coarse.setChecked(True)
    assert state.settings.scales == (32, 64)  # half size first, then the output size
    controls.preserve.setChecked(True)
    assert state.settings.preserve_colors
    assert not controls.layers_box.isVisibleTo(window)  # per-layer weights start collapsed
    controls.layers_button.setChecked(True)
    assert controls.layers_box.isVisibleTo(window)
    controls.precision.setCurrentIndex(controls.precision.findData("mixed"))
    assert state.settings.precision == "mixed"


def test_missing_weights_opens_the_dialog_and_window_stays_usable(qtbot, images):
    def no_weights():
        raise WeightsError("model vgg19 is not installed; download it with `python main.py …`")

    window = create_window(no_weights)
    qtbot.addWidget(window)
    window.show()
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    window.state.start()
    qtbot.waitUntil(lambda: window.weights_dialog is not None, timeout=WAIT_MS)
    dialog = window.weights_dialog
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.reason.text() == "Model vgg19 is not installed yet."
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)
    assert window.run_panel.start.isEnabled()
    window.close()


class _OutOfMemory:
    def __init__(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_offers_smaller_size_or_cpu(window, qtbot, images, monkeypatch):
    monkeypatch.setattr(worker_module, "StyleTransfer", _OutOfMemory)
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    state = window.state
    state.set_settings(size=128)
    state.start()
    qtbot.waitUntil(lambda: window.messages.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert "Out of memory" in window.messages.text.text()
    assert window.messages.smaller.isVisibleTo(window) and window.messages.cpu.isVisibleTo(window)
    qtbot.mouseClick(window.messages.smaller, Qt.MouseButton.LeftButton)
    assert state.settings.size == 64
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    qtbot.mouseClick(window.messages.cpu, Qt.MouseButton.LeftButton)
    assert state.settings.device == "cpu"
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)


def test_too_small_image_is_a_message_not_a_crash(window, qtbot, images, tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (200, 4), "white").save(tiny)
    assert drop_files(window.content_pane, [str(tiny)])
    assert drop_files(window.style_pane, [images["painting"]])
    window.state.start()
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)
    assert "too small or too thin" in window.messages.text.text()


def test_a_first_window_shows_the_engine_run_at_a_smaller_size(qtbot, random_network):
    # No preferences yet: the engine's run (one size, until the picture settles, the same
    # step ceiling and loss weights) at a smaller picture, snapshots on.
    window = create_window(lambda: random_network)
    qtbot.addWidget(window)
    controls, engine = window.controls, RunSettings()
    assert controls.size.value() < engine.size and controls.steps.value() == engine.steps
    assert window.state.settings.settle == engine.settle > 0
    assert not controls.coarse.isChecked() and controls.snapshot_every.text() != "off"
    for weight in ("content_weight", "style_weight", "tv_weight"):
        assert getattr(controls, weight).value == getattr(engine, weight), weight
    window.close()


def test_paste_an_image_from_the_clipboard(window):
    from PySide6.QtGui import QGuiApplication, QImage

    image = QImage(80, 60, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    QGuiApplication.clipboard().setImage(image)
    window.content_pane.paste()
    content = window.state.content
    assert content is not None and content.label == "Pasted image"
    assert content.image.size == (80, 60) and content.image.getpixel((5, 5)) == (0, 128, 128)
    window.style_pane.paste()
    assert [s.label for s in window.state.styles] == ["Pasted image"]


def test_mixed_precision_without_bfloat16_runs_and_says_so(window, qtbot, images, monkeypatch):
    monkeypatch.setattr(run_module, "has_bfloat16", lambda device: False)
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    window.controls.precision.setCurrentIndex(window.controls.precision.findData("mixed"))
    window.state.set_settings(steps=3)
    window.state.start()
    qtbot.waitUntil(lambda: window.messages.isVisible(), timeout=WAIT_MS)
    assert "running in full precision" in window.messages.text.text()
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)
    assert window.state.worker.steps_done >= 3  # the run went on, in fp32


@pytest.mark.parametrize("units", [True, False])
def test_the_window_says_which_precision_runs(window, qtbot, images, monkeypatch, units):
    # The default, Automatic, is mixed precision exactly where bfloat16 units are; the
    # panel says what runs, and nothing is said to be missing.
    monkeypatch.setattr(run_module, "has_bfloat16", lambda device: units)
    assert window.controls.precision.currentData() == "auto"
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    window.state.set_settings(steps=2)
    window.state.start()
    running = "precision: Faster (mixed)" if units else "precision: Full"
    qtbot.waitUntil(lambda: running in window.controls.detected.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)
    assert "precision" not in window.messages.text.text(), window.messages.text.text()


@contextlib.contextmanager
def no_collection():
    """No cycle collection while counting references: freeing an earlier test's objects
    drops references to None as well, and is not what is measured."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_repainting_a_long_loss_plot_leaves_pythons_none_alone(qtbot):
    """PySide6 6.12.0 drops a reference to None per QPolygonF.append (and per call that
    returns nothing): the plot's repaints took None's count to zero after a few hundred
    steps and Python 3.11 aborted. Guards the plot and the PySide6 pin in pyproject.toml."""
    import sys

    from gui.loss_plot import LossPlot

    class History(QObject):
        lossesAppended = Signal(object)
        historyCleared = Signal()

    history = History()
    plot = LossPlot(history)
    qtbot.addWidget(plot)
    plot.resize(300, 90)
    history.lossesAppended.emit([(i, 1.0 / i, 2.0 / i) for i in range(1, 1500)])
    with no_collection():
        before = sys.getrefcount(None)
        for _ in range(10):
            plot.grab()  # a real paint, 2 x 1500 points each
        assert before - sys.getrefcount(None) < 100  # was 30 000


def test_a_long_evening_of_window_updates_leaves_none_and_booleans_alone(qtbot):
    """What every step does to the window (texts, a progress bar, repaints, signals) must
    not drain None's or True's reference count: PySide6 6.12.0 did, by one a call, and on
    Python 3.11 the window aborted after a few hundred steps (pyproject.toml pins it out)."""
    import sys

    from PySide6.QtWidgets import QLabel, QProgressBar

    class Relay(QObject):
        changed = Signal(object)

    bar, label, relay, seen = QProgressBar(), QLabel(), Relay(), []
    qtbot.addWidget(bar), qtbot.addWidget(label)
    relay.changed.connect(seen.append)
    with no_collection():
        none, true = sys.getrefcount(None), sys.getrefcount(True)
        for step in range(2000):
            bar.setValue(step % 100)
            label.setText(str(step))
            label.update()
            relay.changed.emit(step)
        assert len(seen) == 2000
        assert none - sys.getrefcount(None) < 100 and true - sys.getrefcount(True) < 100
