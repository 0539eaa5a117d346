"""When a run finishes (issue 12): a "Finished" notice in the window and on the desktop where
it has notifications, and "Continue at 2× size" from the finished picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from gui.finish_notice import FinishNotifier
from tests.gui.conftest import drop_files

WAIT_MS = 60_000
LEFT = Qt.MouseButton.LeftButton


def finish_a_run(window, qtbot, images, steps: int = 3) -> None:
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    window.state.set_settings(steps=steps, snapshot_every=0)
    qtbot.mouseClick(window.run_panel.start, LEFT)
    qtbot.waitUntil(lambda: window.state.status == "running", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)


def test_a_finished_run_says_so_in_the_status_bar_and_the_desktop(window, qtbot, images):
    notices = []
    window.state.runFinished.connect(notices.append)
    finish_a_run(window, qtbot, images)
    assert len(notices) == 1 and notices[0].startswith("Finished: 3 steps in ")
    assert "64 × 48 px" in notices[0]
    assert window.status_text.text().startswith(notices[0])
    assert "Ctrl+S" in window.status_text.text()
    assert notices[0] in window.messages.text.text()
    notifier = window.finish_notifier
    if FinishNotifier.available():  # a desktop with notifications: it was handed the text
        assert notifier.shown == notices[0]
    else:  # none (as offscreen): nothing shown, nothing failed
        assert notifier.shown == "" and notifier.tray is None
    # A stopped run is not "finished".
    qtbot.mouseClick(window.run_panel.start, LEFT)
    qtbot.waitUntil(lambda: window.state.status == "running", timeout=WAIT_MS)
    qtbot.mouseClick(window.run_panel.stop, LEFT)
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)
    assert len(notices) == 1 and "Finished" not in window.status_text.text()


def test_continue_at_twice_the_size_paints_on_from_the_finished_picture(window, qtbot, images):
    state, panel = window.state, window.run_panel
    assert not panel.larger.isVisible() and not window.menus.larger_action.isEnabled()
    finish_a_run(window, qtbot, images)
    qtbot.waitUntil(panel.larger.isVisible)
    assert window.menus.larger_action.isEnabled()
    finished = state.result_image()
    assert finished.size == (64, 48)
    frames = []
    state.displayChanged.connect(frames.append)
    qtbot.mouseClick(panel.larger, LEFT)
    assert state.settings.size == 128 and state.settings.scales == ()
    qtbot.waitUntil(lambda: state.report is not None and state.report.iteration >= 1,
                    timeout=WAIT_MS)  # fmt: skip
    assert state.report.size == (128, 96) and state.run_settings.size == 128
    # The new run starts from the finished picture brought to 128 px, not from the photo.
    first = frames[0].astype(float)
    larger = np.asarray(finished.resize((128, 96), Image.Resampling.LANCZOS), dtype=float)
    photo = np.asarray(state.content.image.resize((128, 96)), dtype=float)
    assert np.abs(first - larger).mean() < 3 < np.abs(first - photo).mean()
    qtbot.mouseClick(panel.stop, LEFT)
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    # Undo brings the size back in one step.
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert state.settings.size == 64


def test_continue_at_twice_the_size_needs_a_finished_picture(window, qtbot, images):
    assert not window.state.continue_larger()
    assert "after a run has made a picture" in window.messages.text.text()


def test_a_saved_picture_says_how_it_was_made_and_loads_back_as_that_run(
    window, qtbot, images, tmp_path, monkeypatch, random_weights_file
):
    # Issue 26: a picture saved from the window embedded the network but no preprocessing,
    # no paintings and no regions (the command line's saves embed them).
    from PySide6.QtWidgets import QFileDialog

    from engine import weights_store
    from engine.images import read_settings
    from tests.gui.test_regions import drag, screen_point

    weights_store.import_file(random_weights_file, "vgg19-caffe")
    state = window.state
    state.refresh_models()
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    window.regions.toggle.click()
    drag(window.regions.overlay, [screen_point(window, 0.3, 0.5)])
    window.regions.toggle.click()
    state.set_settings(steps=3)
    qtbot.mouseClick(window.run_panel.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    out = tmp_path / "picture.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.save_dialog()
    saved = read_settings(out)
    assert (saved["model"], saved["preprocessing"]) == ("vgg19", "caffe")
    assert saved["content"] == str(Path(images["photo"]).resolve())
    assert saved["styles"] == [str(Path(images["painting"]).resolve())]
    [region] = saved["regions"]
    assert region["styles"] == [0] and region["mask"] == "painted" and region["mask_sha256"]

    # Loaded back: its settings and its model (here after switching to another one).
    weights_store.import_file(random_weights_file, "vgg19")
    state.refresh_models()
    state.set_model("vgg19")
    state.set_settings(steps=50)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(out), ""))
    window.load_preset_dialog()
    qtbot.mouseClick(window.messages.use_settings, Qt.MouseButton.LeftButton)
    assert state.settings.steps == 3 and state.model == "vgg19-caffe"
    assert window.controls.model.currentData() == "vgg19-caffe"
