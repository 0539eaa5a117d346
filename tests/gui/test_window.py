"""The window end to end, on a random VGG at 64 px: drop, run, pause, change a weight,
resume, stop, save; bad files; closing mid-run."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from engine.images import load_image, read_settings
from gui.worker import live_threads
from tests.gui.conftest import drop_files

WAIT_MS = 60_000  # generous: other work may share the CPU; waits end as soon as met


def load_inputs(window, images) -> None:
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    state = window.state
    assert state.content is not None and state.content.label == "photo.png"
    assert [s.label for s in state.styles] == ["painting.jpg"]
    assert "96 × 72 px" in window.content_pane.caption.text()


def test_drop_run_pause_change_weight_resume_stop_save(window, qtbot, images, tmp_path):
    state, worker = window.state, window.state.worker
    load_inputs(window, images)
    assert window.run_panel.start.isEnabled()

    frames, history, times = [], [], []
    state.displayChanged.connect(frames.append)
    state.displayChanged.connect(lambda _: times.append(time.monotonic()))
    state.lossesAppended.connect(history.extend)
    qtbot.mouseClick(window.run_panel.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(frames) >= 4 and state.report is not None, timeout=WAIT_MS)
    # The state hands the canvas plain arrays (no Qt types in the model); the canvas draws them.
    assert isinstance(frames[-1], np.ndarray) and frames[-1].dtype == np.uint8
    assert frames[-1].shape[1:] == (64, 3) and window.canvas.pixmap.width() == 64
    assert state.status == "running"
    assert not window.controls.size.isEnabled()  # shapes the run: locked while it goes
    assert window.controls.style_weight.isEnabled()  # live

    # Pause: the worker sleeps; no step happens for a while.
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state.status == "paused", timeout=WAIT_MS)
    assert window.run_panel.pause.text() == "Resume"
    steps = worker.steps_done
    qtbot.wait(600)
    assert worker.steps_done == steps

    # Change the style weight by typing it; it reaches the paused run without a restart.
    box = window.controls.style_weight.box
    box.setText("3e9")
    box.editingFinished.emit()
    assert state.settings.style_weight == 3e9
    qtbot.waitUntil(lambda: worker.run_settings.style_weight == 3e9, timeout=WAIT_MS)
    qtbot.wait(300)
    assert worker.steps_done == steps

    qtbot.mouseClick(window.run_panel.pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: worker.steps_done >= steps + 3, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(history) >= steps + 3, timeout=WAIT_MS)
    # Continued from the same iteration: one unbroken count from 1, no restart.
    assert [h[0] for h in history] == list(range(1, len(history) + 1))

    # Previews come at most ~20 a second (plus one at start and at each pause).
    assert len(times) <= 20 * (times[-1] - times[0]) + 4

    qtbot.mouseClick(window.run_panel.stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert not window.run_panel.stop.isEnabled()
    assert state.snapshots, "a snapshot every 5 steps"

    path = tmp_path / "result.png"
    assert state.save_result(str(path))
    saved = load_image(path)
    assert saved.size == (64, 48)
    embedded = read_settings(path)
    assert embedded["style_weight"] == 3e9 and embedded["size"] == 64

    jpeg = tmp_path / "result.jpg"
    assert state.save_result(str(jpeg))
    assert read_settings(jpeg)["style_weight"] == 3e9


def test_bad_file_gives_a_message(window, qtbot, images):
    assert drop_files(window.content_pane, [images["broken"]])
    assert window.state.content is None
    assert window.messages.isVisible()
    assert "broken.jpg" in window.messages.text.text()
    assert "not an image" in window.messages.text.text()
    assert not window.run_panel.start.isEnabled()


def test_closing_mid_run_leaves_no_thread(window, qtbot, images):
    load_inputs(window, images)
    frames = []
    window.state.displayChanged.connect(frames.append)
    window.state.start()
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=WAIT_MS)
    assert window.state.status == "running"
    window.close()
    assert not window.state.thread.isRunning()
    assert live_threads() == []
    window.close()  # a second close (and aboutToQuit after it) is harmless


def test_restore_snapshot_continues_from_it(window, qtbot, images):
    load_inputs(window, images)
    state = window.state
    state.set_settings(steps=8, snapshot_every=4)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Start
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert [s.iteration for s in state.snapshots] == [4, 8]
    state.view_snapshot(0)
    assert state.viewing == 0
    window.canvas.grab()  # paints the "snapshot" badge
    seen = []
    state.progressChanged.connect(lambda report: seen.append(report.iteration))
    state.restore_snapshot(0)  # not running: a new run that starts from the snapshot
    assert state.status == "running"
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert state.report.iteration == 8
    assert seen and min(seen) > 4  # counted on from the snapshot's step 4, not from 1


def test_the_settings_fit_their_panel_at_1280_by_720(window, qtbot):
    # The Model box's long texts once made the settings wider than their scroll area, which
    # cut off every value box (the weights' typed numbers) at the right edge.
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    controls = window.controls
    viewport = controls.parentWidget()
    assert controls.minimumSizeHint().width() <= viewport.width()
    box = controls.style_weight.box
    right_edge = box.mapTo(viewport, box.rect().topRight()).x()
    assert box.isVisible() and right_edge < viewport.width()
