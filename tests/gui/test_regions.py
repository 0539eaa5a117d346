"""Regions mode in the window (issue 15): real mouse events paint a mask on the canvas,
`[` and `]` size the brush, undo and redo whole strokes, and a stroke made while a run is
paused reaches it and changes the picture where it was painted."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.run import StyleTransfer
from gui.region_painter import mask_array
from tests.gui.conftest import drop_files

WAIT_MS = 60_000
LEFT = Qt.MouseButton.LeftButton


def drag(widget, points: list[QPointF]) -> None:
    """Press, move with the button held, release: the events a mouse sends. (QTest's
    mouseMove sends no buttons, so the moves are sent as QMouseEvents themselves.)"""
    def send(kind, point, buttons):
        event = QMouseEvent(kind, point, widget.mapToGlobal(point), LEFT, buttons,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, points[0], LEFT)
    for point in points[1:]:
        send(QEvent.Type.MouseMove, point, LEFT)
    send(QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton)


def load(window, images) -> None:
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])


def screen_point(window, x: float, y: float) -> QPointF:
    """The canvas point showing the fraction (x, y) of the picture."""
    rect = window.canvas._image_rect()
    return QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height())


def test_painting_a_mask_with_the_mouse(window, qtbot, images):
    load(window, images)
    mode, painter, overlay = window.regions, window.regions.painter, window.regions.overlay
    qtbot.mouseClick(mode.toggle, LEFT)
    assert mode.panel.isVisible() and overlay.active
    assert mode.panel.layer.count() == 2  # the painting's row and "Keep the photo"

    size = painter.size
    qtbot.keyClick(overlay, Qt.Key.Key_BracketRight)
    assert painter.size > size and mode.panel.size.value() == painter.size
    qtbot.keyClick(overlay, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(overlay, Qt.Key.Key_BracketLeft)
    assert painter.size < size

    drag(overlay, [screen_point(window, 0.1, 0.5), screen_point(window, 0.4, 0.5)])
    mask = mask_array(painter.masks[0])
    height, width = mask.shape
    assert mask[height // 2, int(0.25 * width)] > 0.9  # on the stroke
    assert mask[:, int(0.7 * width) :].max() == 0  # nowhere near it
    assert mask[height // 2 - painter.size // 4, int(0.25 * width)] > 0  # a round brush
    # The state has the region for the next run; undo takes the stroke back, redo again.
    assert len(window.state.regions) == 1 and window.state.regions[0].styles == (0,)
    qtbot.mouseClick(undo_button(mode), LEFT)
    assert mask_array(painter.masks[0]).max() == 0 and window.state.regions == ()
    painter.redo()
    assert mask_array(painter.masks[0]).max() > 0.9

    # The keep layer paints over the style layer: the pixel belongs to one of them.
    mode.panel.layer.setCurrentIndex(1)
    painter.set_size(64)
    drag(overlay, [screen_point(window, 0.25, 0.5)])
    assert mask_array(painter.masks[1])[height // 2, int(0.25 * width)] > 0.9
    assert mask_array(painter.masks[0])[height // 2, int(0.25 * width)] < 0.1
    assert {r.keep for r in window.state.regions} == {True, False}

    # Hidden overlay, invert, and a grab that shows the colour.
    painter.invert()
    assert mask_array(painter.masks[1])[height // 2, int(0.25 * width)] < 0.1
    mode.panel.show_masks.setChecked(False)
    assert not overlay.shown


def undo_button(mode):
    return next(b for b in mode.panel.findChildren(type(mode.toggle)) if b.text() == "Undo")


def pixels(frame) -> np.ndarray:
    """The state's newest frame, (H, W, 3) uint8, as floats in [0, 1] (a copy)."""
    return np.asarray(frame, dtype=np.float64) / 255


def test_a_stroke_while_paused_changes_the_picture_where_painted(window, qtbot, images,
                                                                 monkeypatch):  # fmt: skip
    applied = []
    real = StyleTransfer.update_regions

    def spy(run, regions):
        applied.append(regions)
        return real(run, regions)

    monkeypatch.setattr(StyleTransfer, "update_regions", spy)
    load(window, images)
    state, worker, painter = window.state, window.state.worker, window.regions.painter
    window.regions.toggle.click()
    painter.set_size(48)  # mask pixels: the 96 px photo's outer quarters
    painter.hardness = 0.8
    drag(window.regions.overlay, [screen_point(window, 0.0, 0.0),
                                  screen_point(window, 0.0, 1.0)])  # the left edge styled
    assert state.regions
    qtbot.mouseClick(window.run_panel.start, LEFT)
    qtbot.waitUntil(lambda: worker.steps_done >= 10, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state.status == "paused", timeout=WAIT_MS)
    qtbot.wait(200)
    before, steps = pixels(state.frame), worker.steps_done
    drag(window.regions.overlay, [screen_point(window, 1.0, 0.0),
                                  screen_point(window, 1.0, 1.0)])  # and now the right edge
    qtbot.waitUntil(lambda: len(applied) == 1, timeout=WAIT_MS)
    assert worker.steps_done == steps  # taken while paused: no step made
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: worker.steps_done >= steps + 15, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state.status == "paused", timeout=WAIT_MS)
    qtbot.wait(200)
    change = np.abs(pixels(state.frame) - before).mean(2)
    width = change.shape[1]
    painted, untouched = change[:, -width // 5 :].mean(), change[:, width // 3 : -width // 3].mean()
    print(f"change after the stroke: painted {painted:.4f}, untouched middle {untouched:.4f}")
    assert painted > 2 * untouched


def test_the_regions_tools_fit_a_1280_px_window(window, qtbot, images):
    # One row of tools once made the window 1515 px wide and cut off the settings' boxes.
    load(window, images)
    window.regions.toggle.click()
    window.resize(1280, 720)
    qtbot.waitExposed(window)
    qtbot.wait(50)
    assert window.width() == 1280
    viewport, box = window.controls.parentWidget(), window.controls.style_weight.box
    assert box.mapTo(viewport, box.rect().topRight()).x() < viewport.width()


def test_eraser_fill_auto_import_and_undo_keys(window, qtbot, images, tmp_path):
    from PIL import Image

    from tests.gui.conftest import drop_files as drop

    load(window, images)
    assert drop(window.style_pane, [images["painting"]])  # a second painting row
    mode, painter, overlay = window.regions, window.regions.painter, window.regions.overlay
    mode.toggle.click()
    height, width = mask_array(painter.masks[0]).shape
    middle = screen_point(window, 0.5, 0.5)
    painter.set_size(40)
    painter.hardness = 0.95  # full strength nearly to the rim
    drag(overlay, [middle])
    mode.panel.tools["eraser"].click()
    painter.set_size(12)
    drag(overlay, [middle])
    mask = mask_array(painter.masks[0])
    assert mask[height // 2, width // 2] < 0.05 and mask[height // 2, width // 2 + 14] > 0.9
    qtbot.keyClick(overlay, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert mask_array(painter.masks[0])[height // 2, width // 2] > 0.9  # the erase undone

    # Fill gives the second painting everything the first has not painted.
    mode.panel.layer.setCurrentIndex(1)
    mode.panel.tools["fill"].click()
    drag(overlay, [screen_point(window, 0.1, 0.1)])
    first, second = mask_array(painter.masks[0]), mask_array(painter.masks[1])
    assert np.allclose(first + second, 1, atol=2 / 255)

    # Auto: one part of the photo per painting, softly edged, covering the picture.
    mode.panel.auto_start("brightness")
    first, second = mask_array(painter.masks[0]), mask_array(painter.masks[1])
    assert 0.3 < first.mean() < 0.7 and np.abs(first + second - 1).mean() < 0.02
    mode.panel.auto_start("colours")
    assert len(window.state.regions) == 2

    # A mask file: any size is resized; a black one is refused with a message, not a crash.
    path = tmp_path / "half.png"
    half = np.zeros((10, 30), np.uint8)
    half[:, :15] = 255
    Image.fromarray(half).save(path)
    assert painter.import_mask(str(path)) is None
    imported = mask_array(painter.masks[painter.layer])
    assert imported.shape == (height, width) and imported[:, : width // 3].min() > 0.9
    Image.new("L", (8, 8), 0).save(path)
    assert "empty" in painter.import_mask(str(path))
    path.write_bytes(b"not an image")
    assert "not an image file" in painter.import_mask(str(path))


def test_painted_regions_travel_with_the_autosave(window, qtbot, images, random_network):
    from engine.session import load_session, save_session
    from tests.gui.test_session import open_window

    load(window, images)
    window.regions.toggle.click()
    window.regions.painter.set_size(30)
    drag(window.regions.overlay, [screen_point(window, 0.2, 0.5)])
    window.state.frame = np.zeros((48, 64, 3), np.uint8)  # a session needs a picture
    save_session(window.state.session())
    assert len(load_session().regions) == 1
    window.close()

    second = open_window(qtbot, random_network)
    qtbot.mouseClick(second.restore_bar.restore, LEFT)
    restored = mask_array(second.regions.painter.masks[0])
    height, width = restored.shape
    assert restored[height // 2, width // 5] > 0.9 and restored[:, width // 2 :].max() == 0
    assert len(second.state.regions) == 1  # and the next run gets them
    # A new photo starts with empty masks.
    assert drop_files(second.content_pane, [images["photo"]])
    assert second.state.regions == () and mask_array(second.regions.painter.masks[0]).max() == 0
    second.close()


def test_undoing_strokes_across_another_layer_gives_its_paint_back(window, qtbot, images):
    # Issue 26: a red stroke for painting 1, two green strokes across it for painting 2,
    # Ctrl+Z twice: where they crossed was left unpainted, not red again.
    load(window, images)
    assert drop_files(window.style_pane, [images["painting"]])  # a second painting row
    mode, painter, overlay = window.regions, window.regions.painter, window.regions.overlay
    qtbot.mouseClick(mode.toggle, LEFT)
    painter.set_size(24)
    drag(overlay, [screen_point(window, 0.1, 0.5), screen_point(window, 0.9, 0.5)])
    red = mask_array(painter.masks[0]).copy()
    mode.panel.layer.setCurrentIndex(1)
    for x in (0.3, 0.6):
        drag(overlay, [screen_point(window, x, 0.1), screen_point(window, x, 0.9)])
    height, width = red.shape
    crossing = (height // 2, int(0.3 * width))
    assert mask_array(painter.masks[0])[crossing] < 0.1  # green took it
    for _ in range(2):
        qtbot.keyClick(overlay, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(mask_array(painter.masks[0]), red)  # red again where they crossed
    assert mask_array(painter.masks[1]).max() == 0
    qtbot.keyClick(overlay, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert mask_array(painter.masks[1])[crossing] > 0.9
    assert mask_array(painter.masks[0])[crossing] < 0.1


def test_the_brush_outline_goes_when_the_pointer_leaves_or_a_photo_comes(window, qtbot, images):
    # Issue 26: the outline stayed on the canvas after the pointer left, even after another
    # photo was loaded.
    load(window, images)
    mode, overlay = window.regions, window.regions.overlay
    qtbot.mouseClick(mode.toggle, LEFT)
    point = screen_point(window, 0.5, 0.5)

    def hover() -> None:
        QApplication.sendEvent(overlay, QMouseEvent(
            QEvent.Type.MouseMove, point, overlay.mapToGlobal(point), Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))  # fmt: skip

    def leave() -> None:
        QApplication.sendEvent(overlay, QEvent(QEvent.Type.Leave))

    without = overlay.grab().toImage()
    hover()
    assert overlay.grab().toImage() != without  # the outline under the pointer
    leave()
    assert overlay.grab().toImage() == without
    hover()
    assert drop_files(window.content_pane, [images["painting"]])  # another photo
    shown = overlay.grab().toImage()
    leave()
    assert overlay.grab().toImage() == shown  # nothing left to take away
