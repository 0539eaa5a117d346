"""Issue 12: the window tried as an artist would on a first evening. Each test drives the
window with real key presses and mouse clicks, on a random VGG at 64 px."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QContextMenuEvent, QFontMetricsF
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox, QSplitter

from engine.images import load_image, save_image
from engine.session import autosave_folder, load_session
from gui.app import create_window
from gui.elided_label import ElidedLabel, elide_name
from tests.gui.conftest import drop_files

WAIT_MS = 60_000
LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton


def load_inputs(window, images) -> None:
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])


def click_menu_item_later(qtbot, text: str, seen: list) -> None:
    """When a context menu pops up, click its item `text` with the mouse."""

    def click() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, click)
            return
        action = next(a for a in menu.actions() if a.text() == text)
        seen.append([a.text() for a in menu.actions()])
        qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())

    QTimer.singleShot(20, click)


def right_click_snapshot(qtbot, window, row: int, choice: str) -> None:
    strip = window.snapshots
    seen: list = []
    click_menu_item_later(qtbot, choice, seen)
    centre = strip.visualItemRect(strip.item(row)).center()
    qtbot.mouseClick(strip.viewport(), RIGHT, pos=centre)
    # The platform turns a right click into this event; QTest's click goes to the widget.
    global_pos = strip.viewport().mapToGlobal(centre)
    menu_event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, centre, global_pos)
    QApplication.sendEvent(strip.viewport(), menu_event)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)


def finish_a_run(window, qtbot, steps: int, every: int) -> None:
    state = window.state
    state.set_settings(steps=steps, snapshot_every=every)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Start
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)


# --- 2. "Continue from here" keeps the history and counts on --------------------------------


def test_continue_from_a_snapshot_keeps_the_history_and_counts_on(window, qtbot, images):
    load_inputs(window, images)
    state = window.state
    history = []
    state.lossesAppended.connect(history.extend)
    finish_a_run(window, qtbot, steps=12, every=4)
    assert [s.iteration for s in state.snapshots] == [4, 8, 12]
    plotted = list(window.run_panel.plot.points)
    assert [p[0] for p in plotted] == list(range(1, 13))

    right_click_snapshot(qtbot, window, 0, "Continue from here")  # step 4
    assert state.status == "running"
    # At once, before the first new step: the count is that of the snapshot, the earlier
    # history stays, the later snapshots give way.
    assert window.run_panel.iteration.text() == "4 / 12"
    assert [s.iteration for s in state.snapshots] == [4]
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert state.report.iteration == 12 and state.report.total_steps == 12
    assert [s.iteration for s in state.snapshots] == [4, 8, 12]
    assert [window.snapshots.item(i).text() for i in range(3)] == ["step 4", "step 8", "step 12"]
    assert [h[0] for h in history[12:]] == list(range(5, 13))  # counted on, 8 steps left
    points = window.run_panel.plot.points
    assert [p[0] for p in points] == list(range(1, 13))
    assert points[:4] == plotted[:4]  # the loss plot kept the steps before the snapshot


def test_continue_from_the_last_snapshot_says_why_nothing_runs(window, qtbot, images):
    load_inputs(window, images)
    finish_a_run(window, qtbot, steps=4, every=4)
    right_click_snapshot(qtbot, window, 0, "Continue from here")
    assert window.state.status == "idle"
    assert "end of the run" in window.messages.text.text()


# --- 7. No stale numbers at a new Start -------------------------------------------------------


def test_a_new_start_shows_no_count_of_the_last_run(window, qtbot, images):
    load_inputs(window, images)
    finish_a_run(window, qtbot, steps=6, every=0)
    panel = window.run_panel
    assert panel.iteration.text() == "6 / 6"
    window.state.set_settings(steps=300)
    qtbot.mouseClick(panel.start, LEFT)
    assert panel.iteration.text() == "0 / 300" and panel.progress.value() == 0
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Stop
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)


# --- 3. Space and Esc act on the run whatever has focus ---------------------------------------


def test_space_resumes_right_after_typing_a_weight_while_paused(window, qtbot, images):
    load_inputs(window, images)
    state, worker = window.state, window.state.worker
    qtbot.mouseClick(window.run_panel.start, LEFT)
    qtbot.waitUntil(lambda: state.report is not None, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state.status == "paused", timeout=WAIT_MS)

    box = window.controls.style_weight.box
    qtbot.mouseClick(box, LEFT)
    box.selectAll()
    qtbot.keyClicks(box, "3e9")
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter commits the field
    assert state.settings.style_weight == 3e9 and box.hasFocus()
    steps = worker.steps_done
    qtbot.keyClick(box, Qt.Key.Key_Space)  # then Space resumes, focus still in the field
    assert state.status == "running" and box.text() == "3e+09"
    qtbot.waitUntil(lambda: worker.steps_done > steps, timeout=WAIT_MS)

    # Space again pauses; a weight typed without Enter is committed by Space itself.
    qtbot.keyClick(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state.status == "paused", timeout=WAIT_MS)
    box.selectAll()
    qtbot.keyClicks(box, "2e9")
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert state.settings.style_weight == 2e9 and state.status == "running"

    # Esc stops from a spin box too.
    spin = window.style_pane.rows.itemAt(0).widget().weight
    qtbot.mouseClick(spin, LEFT)
    assert spin.hasFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Escape)
    assert state.status == "stopping"
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)

    # With no run, a focused check box keeps its Space.
    check = window.controls.preserve
    check.setFocus()
    before = check.isChecked()
    qtbot.keyClick(check, Qt.Key.Key_Space)
    assert check.isChecked() != before


# --- 6. Ctrl+Q from the weights dialog --------------------------------------------------------


def test_ctrl_q_quits_from_the_weights_dialog(window, qtbot):
    window.show_weights_dialog("Download or import the network weights.")
    dialog = window.weights_dialog
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClick(dialog.model, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible() and not dialog.isVisible()
    assert not window.state.thread.isRunning()


# --- 1. Closing mid-run asks, and the session can be restored ---------------------------------


def answer_close_question_later(qtbot, button, seen: list) -> None:
    """When the close question comes up, click `button` (a QMessageBox.StandardButton)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.informativeText())
        qtbot.mouseClick(box.button(button), LEFT)

    QTimer.singleShot(20, click)


def run_until_step(window, qtbot, images, step: int) -> None:
    load_inputs(window, images)
    state = window.state
    state.set_settings(steps=400, snapshot_every=5)
    qtbot.mouseClick(window.run_panel.start, LEFT)
    qtbot.waitUntil(lambda: state.report is not None and state.report.iteration >= step,
                    timeout=WAIT_MS)  # fmt: skip


def test_closing_mid_run_asks_and_cancel_keeps_the_run(window, qtbot, images):
    run_until_step(window, qtbot, images, 3)
    seen: list = []
    answer_close_question_later(qtbot, QMessageBox.StandardButton.Cancel, seen)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert seen and "not saved" in seen[0]
    assert window.isVisible() and window.state.status == "running"
    steps = window.state.worker.steps_done
    qtbot.waitUntil(lambda: window.state.worker.steps_done > steps, timeout=WAIT_MS)


def test_closing_mid_run_with_save_keeps_the_session_for_next_time(
    window, qtbot, images, tmp_path, monkeypatch, random_network
):
    run_until_step(window, qtbot, images, 7)
    target = tmp_path / "evening.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args: (str(target), "PNG (*.png)")))  # fmt: skip
    seen: list = []
    answer_close_question_later(qtbot, QMessageBox.StandardButton.Save, seen)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert seen and not window.isVisible() and target.exists()
    closed_at = window.state.report.iteration
    assert not window.state.thread.isRunning()

    again = create_window(lambda: random_network)
    qtbot.addWidget(again)
    again.show()
    bar = again.restore_bar
    assert bar.isVisible(), "a closed session is offered at the next launch"
    qtbot.mouseClick(bar.restore, LEFT)
    state = again.state
    assert state.content.label == "photo.png" and [s.label for s in state.styles] == [
        "painting.jpg"
    ]
    assert state.snapshots and state.snapshots[-1].iteration <= closed_at
    assert state.frame is not None
    again.close()


def test_closing_mid_run_with_discard_deletes_the_session(window, qtbot, images):
    run_until_step(window, qtbot, images, 6)
    seen: list = []
    answer_close_question_later(qtbot, QMessageBox.StandardButton.Discard, seen)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert seen and not window.isVisible()
    assert load_session() is None and not autosave_folder().exists()


def test_closing_with_the_picture_saved_asks_nothing_and_keeps_the_session(
    window, qtbot, images, tmp_path
):
    load_inputs(window, images)
    finish_a_run(window, qtbot, steps=5, every=5)
    assert window.state.save_result(str(tmp_path / "done.png"))
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()  # no question: nothing would be lost
    assert load_session().iteration == 5


# --- 4. Device offers what is present ---------------------------------------------------------


def test_absent_devices_are_shown_disabled_with_the_reason(qtbot, random_network, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    window = create_window(lambda: random_network)
    qtbot.addWidget(window)
    window.show()
    combo, state = window.controls.device, window.state
    combo.setFocus()
    combo.setCurrentIndex(combo.findData("cpu"))
    for _ in range(3):  # the arrow keys walk past what is absent
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert state.settings.device == "cpu"
    cuda = combo.model().item(combo.findData("cuda"))
    assert not cuda.isEnabled() and "not available" in cuda.text()
    assert cuda.toolTip() in ("no NVIDIA GPU or driver found", "this PyTorch has no CUDA support")
    mps = combo.model().item(combo.findData("mps"))
    assert not mps.isEnabled() and mps.toolTip() == "Apple silicon Macs only"
    window.close()


# --- 5. A picture given to Load preset --------------------------------------------------------


def load_preset_through_the_menu(window, monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *args: (str(path), "")))  # fmt: skip
    action = next(a for a in window.findChildren(QAction) if a.text() == "Load preset…")
    action.trigger()


def test_an_impasto_picture_offers_its_settings(window, qtbot, images, tmp_path, monkeypatch):
    state, bar = window.state, window.messages
    made_with = state.settings.replace(content_weight=7.0, optimizer="adam", steps=77,
                                       init="snapshot", style_blend=(1.0,))  # fmt: skip
    picture = tmp_path / "evening-impasto.png"
    save_image(load_image(images["photo"]), picture, made_with.to_dict())
    load_preset_through_the_menu(window, monkeypatch, picture)
    text = bar.text.text()
    assert "evening-impasto.png is a picture, not a preset" in text and "codec" not in text
    assert bar.use_settings.isVisible() and state.settings.content_weight != 7.0
    qtbot.mouseClick(bar.use_settings, LEFT)
    assert state.settings.content_weight == 7.0 and state.settings.steps == 77
    assert window.controls.optimizer.currentData() == "adam"
    assert state.settings.init == "content" and state.settings.device == made_with.device
    assert not bar.use_settings.isVisible()


def test_files_that_are_no_preset_are_named_in_words(window, monkeypatch, images, tmp_path):
    bar = window.messages
    load_preset_through_the_menu(window, monkeypatch, images["photo"])
    assert bar.text.text() == "photo.png is a picture without Impasto settings, not a preset."
    assert not bar.use_settings.isVisible()
    binary = tmp_path / "notes.json"
    binary.write_bytes(b"\x89\xff\x00 not text")
    load_preset_through_the_menu(window, monkeypatch, binary)
    assert bar.text.text().startswith("notes.json is not an Impasto preset")
    assert "codec" not in bar.text.text() and "UTF-8" not in bar.text.text()


# --- 7. Stale screen state --------------------------------------------------------------------


def test_an_error_banner_goes_once_a_later_action_succeeds(window, qtbot, images):
    bar = window.messages
    assert drop_files(window.content_pane, [images["broken"]])
    assert bar.isVisible() and bar.property("level") == "error"
    assert drop_files(window.content_pane, [images["photo"]])
    assert not bar.isVisible()
    assert drop_files(window.style_pane, [images["broken"]])
    assert bar.isVisible()
    assert drop_files(window.style_pane, [images["painting"]])
    assert not bar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    window.state.message.emit("error", "a problem before the next Start")
    window.state.stop()
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)
    assert bar.isVisible()  # a run ending does not take an error away
    qtbot.mouseClick(window.run_panel.start, LEFT)
    assert not bar.isVisible()
    window.state.stop()
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)


def test_the_status_bar_follows_a_restore(qtbot, random_network, images):
    from engine.session import save_session
    from tests.gui.test_session import make_session, open_window

    save_session(make_session(images))
    window = open_window(qtbot, random_network)
    assert "Drop a photo" in window.status_text.text()
    qtbot.mouseClick(window.restore_bar.restore, LEFT)
    message = window.status_text.text()
    assert "Drop a photo" not in message and "goes on from this picture" in message
    window.close()


def test_a_new_photo_replaces_the_last_result_on_the_canvas(window, qtbot, images, tmp_path):
    load_inputs(window, images)
    finish_a_run(window, qtbot, steps=3, every=0)
    other = tmp_path / "other.png"
    load_image(images["painting"]).resize((40, 30)).save(other)
    assert drop_files(window.content_pane, [str(other)])
    shown = window.canvas.pixmap
    assert (shown.width(), shown.height()) == (40, 30)  # the new photo, not the old result
    assert window.state.result_image() is None  # nor would Save write the old result


def test_ctrl_equals_zooms_in(window, qtbot, images):
    load_inputs(window, images)
    canvas = window.canvas
    before = canvas.zoom
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom == pytest.approx(before * 1.25)


# --- The step total agrees with the Steps field (coarse to fine) ------------------------------


def test_the_step_total_names_its_scales_and_the_field_says_per_scale(window, qtbot, images):
    load_inputs(window, images)
    controls, panel = window.controls, window.run_panel
    form = controls.layout().itemAt(0).layout()
    assert form.labelForField(controls.steps).text() == "Steps per scale"
    assert "Coarse to fine" in controls.steps.toolTip()
    controls.coarse.setFocus()
    qtbot.keyClick(controls.coarse, Qt.Key.Key_Space)  # Coarse to fine on: 32 px, then 64 px
    controls.steps.setFocus()
    qtbot.keyClick(controls.steps, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(controls.steps, "3")
    qtbot.keyClick(controls.steps, Qt.Key.Key_Return)
    assert window.state.settings.steps == 3 and len(window.state.settings.sizes) == 2
    qtbot.mouseClick(panel.start, LEFT)
    assert panel.iteration.text() == "0 / 6 (2 scales)"
    qtbot.waitUntil(lambda: window.state.status == "idle", timeout=WAIT_MS)
    assert panel.iteration.text() == "6 / 6 (2 scales)"


# --- A painting's name is shortened only when it lacks room, keeping its extension -----------


def drag_splitter_handle(qtbot, window, dx: int) -> None:
    """Drag the handle between the panes and the canvas `dx` px with the mouse."""
    handle = window.findChild(QSplitter).handle(1)
    start = handle.rect().center()
    qtbot.mousePress(handle, LEFT, pos=start)
    for step in range(1, 5):
        qtbot.mouseMove(handle, QPoint(start.x() + dx * step // 4, start.y()))
    qtbot.mouseRelease(handle, LEFT, pos=QPoint(start.x() + dx, start.y()))


def test_a_painting_name_is_shortened_only_when_it_lacks_room(window, qtbot, images, tmp_path):
    name = "starry_night_over_the_rhone.jpg"
    shutil.copy(images["painting"], tmp_path / name)
    assert drop_files(window.style_pane, [str(tmp_path / name)])
    label = window.style_pane.findChild(ElidedLabel)
    metrics = QFontMetricsF(label.font())

    drag_splitter_handle(qtbot, window, 300)  # a wide pane: the whole name fits
    qtbot.waitUntil(lambda: label.width() > metrics.horizontalAdvance(name))
    assert label.text() == name

    drag_splitter_handle(qtbot, window, -600)  # as narrow as the pane goes
    qtbot.waitUntil(lambda: label.width() < metrics.horizontalAdvance(name))
    shown = label.text()
    assert "…" in shown and shown.startswith("s") and shown.endswith(".jpg")  # whole extension
    assert metrics.horizontalAdvance(shown) <= label.width()
    assert label.toolTip() == name


def test_a_name_that_fits_to_the_pixel_is_not_shortened(qapp):
    metrics = QFontMetricsF(QApplication.font())
    for name in ("starry_night.jpg", "Wheatfield with Cypresses.png", "WWWmmm_Kandinsky.tif"):
        width = metrics.horizontalAdvance(name)
        assert elide_name(metrics, name, width) == name
        short = elide_name(metrics, name, width - 20)
        assert short.endswith(name[name.rindex(".") :]) and "…" in short
        assert metrics.horizontalAdvance(short) <= width - 20


# --- The Preset box looks enabled when it shows "Custom" or "(modified)" ---------------------


def darkest_text(combo) -> int:
    """The lightness of the darkest pixel of the text part of the combo, as drawn."""
    image = combo.grab().toImage()
    box = combo.rect().adjusted(6, 4, -24, -4)  # the text, not the arrow or the frame
    return min(
        image.pixelColor(x, y).lightness()
        for x in range(box.left(), box.right())
        for y in range(box.top(), box.bottom())
    )


def test_the_preset_box_looks_enabled_when_modified(window, qtbot):
    controls = window.controls
    combo = controls.preset
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)  # keys pick the first preset, as a click would
    qtbot.waitUntil(lambda: combo.currentIndex() == 0)
    picked = darkest_text(combo)
    assert not combo.font().italic()

    controls.steps.setFocus()
    qtbot.keyClick(controls.steps, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(controls.steps, "123")
    qtbot.keyClick(controls.steps, Qt.Key.Key_Return)
    assert combo.currentIndex() == -1
    assert combo.placeholderText() == f"{combo.itemText(0)} (modified)"
    assert combo.isEnabled() and combo.font().italic()  # modified: italic, not grey
    assert abs(darkest_text(combo) - picked) < 40
    assert not combo.itemData(0, Qt.ItemDataRole.FontRole).italic()  # the list stays upright


# --- 9. Saving starts in Pictures, then in the last folder; a snapshot's name has its step ---


def capture_save_dialog(monkeypatch, answer: str = "") -> list[str]:
    """Replace the save dialog: note the suggested path it is given, answer `answer`."""
    asked: list[str] = []

    def get_save_file_name(parent, caption, suggested, *rest):
        asked.append(suggested)
        return (answer, "PNG (*.png)" if answer else "")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(get_save_file_name))
    return asked


def test_the_first_save_starts_in_pictures_and_later_ones_in_the_last_folder(
    window, qtbot, images, tmp_path, monkeypatch
):
    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    real_location = QStandardPaths.writableLocation
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(
        lambda where: str(pictures) if where == QStandardPaths.StandardLocation.PicturesLocation
        else real_location(where)))  # fmt: skip
    load_inputs(window, images)
    finish_a_run(window, qtbot, steps=4, every=0)
    elsewhere = tmp_path / "evening"
    elsewhere.mkdir()
    asked = capture_save_dialog(monkeypatch, str(elsewhere / "first.png"))
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert Path(asked[0]) == pictures / "photo-painting.png"
    assert (elsewhere / "first.png").exists()
    asked = capture_save_dialog(monkeypatch)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert Path(asked[0]).parent == elsewhere
    window.close()  # the folder is kept for the next launch
    again = create_window(lambda: None)
    qtbot.addWidget(again)
    assert again.state.preferences.get("save_folder") == str(elsewhere)
    again.close()


def test_without_pictures_the_first_save_starts_at_home(window, qtbot, images, monkeypatch):
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(lambda where: ""))
    load_inputs(window, images)
    finish_a_run(window, qtbot, steps=2, every=0)
    asked = capture_save_dialog(monkeypatch)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert Path(asked[0]).parent == Path.home()


def test_a_snapshot_is_offered_under_its_own_name_with_its_step(window, qtbot, images, monkeypatch):
    load_inputs(window, images)
    finish_a_run(window, qtbot, steps=8, every=4)
    asked = capture_save_dialog(monkeypatch)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # live
    right_click_snapshot(qtbot, window, 0, "Save…")  # step 4
    live, snapshot = (Path(path).name for path in asked)
    assert live == "photo-painting.png" and snapshot == "photo-painting-step4.png"


# --- 11. No blank snapshot strip before the first snapshot -----------------------------------


def test_the_snapshot_strip_shows_only_once_there_are_snapshots(window, qtbot, images, tmp_path):
    strip, canvas = window.snapshots, window.canvas
    load_inputs(window, images)
    assert not strip.isVisible()
    tall_canvas = canvas.height()
    finish_a_run(window, qtbot, steps=3, every=0)  # no snapshots taken
    assert not strip.isVisible()
    finish_a_run(window, qtbot, steps=6, every=3)
    assert strip.isVisible() and strip.count() == 2
    qtbot.waitUntil(lambda: canvas.height() < tall_canvas, timeout=5000)  # the strip made room

    finish_a_run(window, qtbot, steps=3, every=0)  # a fresh run drops the last run's snapshots
    assert not strip.isVisible()
    finish_a_run(window, qtbot, steps=3, every=3)
    assert strip.isVisible()
    qtbot.waitUntil(lambda: canvas.height() < tall_canvas, timeout=5000)
    short_canvas = canvas.height()
    other = tmp_path / "other.png"
    shutil.copy(images["photo"], other)
    assert drop_files(window.content_pane, [str(other)])  # a new photo: they were of the old one
    assert not strip.isVisible() and not window.state.snapshots
    qtbot.waitUntil(lambda: canvas.height() > short_canvas, timeout=5000)  # room given back


# --- A run that settles finishes early, and the window says Finished ---------------------------


def test_a_run_that_settles_finishes_early_and_the_window_says_finished(window, qtbot, images):
    load_inputs(window, images)
    state, panel = window.state, window.run_panel
    state.set_settings(steps=400, settle=0.5, snapshot_every=0)  # a ceiling, not a quota
    shown = []  # (step, time left as the panel showed it)
    state.progressChanged.connect(lambda report: shown.append((report, panel.left.text())))
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Start
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    done = state.report.iteration
    # Time left heads for where the run settles, not for the 400-step ceiling: once the
    # settle watch has a rate it says "about", and its steps are far fewer than the ceiling's.
    estimated = [(report, text) for report, text in shown if text.startswith("about")]
    assert estimated and all(r.expected_steps < r.total_steps for r, _ in estimated)
    report = estimated[-1][0]
    assert abs(report.expected_steps - done) <= max(10, done // 3)
    assert state.report.settled and done < 400
    assert panel.iteration.text() == f"{done} / {done}" and panel.progress.value() == done
    assert panel.progress.maximum() == done
    assert window.messages.text.text().startswith(f"Finished: {done} steps")


def test_the_status_bar_names_the_device_and_survives_a_menu_and_a_save(window, qtbot, images,
                                                                        tmp_path):  # fmt: skip
    # Issue 26: "Device: detecting…" for minutes while the panel said the device; blank
    # after a menu was opened during a run, and after Save.
    from PySide6.QtGui import QStatusTipEvent
    from PySide6.QtWidgets import QApplication

    state = window.state
    qtbot.waitUntil(lambda: state.device_name != "detecting…", timeout=WAIT_MS)
    assert f"Device: {state.device_name}" in window.status_text.text()
    assert "detecting" not in window.status_text.text()
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    state.set_settings(steps=3, snapshot_every=0)
    qtbot.mouseClick(window.run_panel.start, LEFT)
    # Hovering a menu's items sends status tips; leaving it sends an empty one.
    QApplication.sendEvent(window, QStatusTipEvent("Open a photo"))
    QApplication.sendEvent(window, QStatusTipEvent(""))
    assert window.status_text.isVisible() and "Device:" in window.status_text.text()
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert state.save_result(str(tmp_path / "p.png"))
    assert window.status_text.isVisible() and "Device:" in window.status_text.text()
