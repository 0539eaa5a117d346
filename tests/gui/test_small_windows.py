"""Small windows and 2x scaling (issue 12): usable at 1280 x 720, and at 2x scaling on a
2560 x 1440 screen (the same 1280 x 720 logical pixels): nothing under the scroll bar,
no label cut, Start / Pause / Stop in the window."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLabel, QLineEdit, QSlider

from gui.elided_label import ElidedLabel
from tests.gui.conftest import drop_files


def check_the_settings_fit(window) -> None:
    controls = window.controls
    viewport = controls.parentWidget()
    assert controls.width() <= viewport.width()  # no part of the panel beyond the viewport
    kinds = (QAbstractSpinBox, QComboBox, QLineEdit, QSlider)
    shown = [w for kind in kinds for w in controls.findChildren(kind) if w.isVisibleTo(window)]
    assert len(shown) > 15
    for widget in shown:
        right = widget.mapTo(viewport, QPoint(widget.width(), 0)).x()
        assert right <= viewport.width(), widget
    for label in controls.findChildren(QLabel):
        if label.isVisibleTo(window) and label.text() and not label.wordWrap():
            assert label.width() >= label.sizeHint().width(), label.text()  # not cut
    for button in (window.run_panel.start, window.run_panel.pause, window.run_panel.stop):
        assert button.mapTo(window, QPoint(button.width(), 0)).x() <= window.width()


def test_the_smallest_window_fits_1280_by_720_at_2x_scaling(window):
    # 1280 x 720 logical px, less a title bar and a task bar.
    hint = window.minimumSizeHint()
    assert hint.width() <= 1000 and hint.height() <= 600


@pytest.mark.parametrize("open_sections", [False, True])
def test_the_settings_fit_the_smallest_window_and_1280_by_720(window, qtbot, open_sections):
    controls = window.controls
    if open_sections:
        controls.quality_button.click()
        controls.layers_button.click()
    for width, height in ((1280, 720), (1, 1)):  # (1, 1): as small as the window goes
        window.resize(width, height)
        qtbot.wait(50)  # the layouts settle after the resize events
        assert window.width() <= max(width, window.minimumSizeHint().width())
        check_the_settings_fit(window)


def test_painting_names_show_whole_at_1280_by_720(window, qtbot, images, tmp_path):
    # They were shortened to "star…ight.jpg" with the weight box and ✕ beside them.
    names = ["starry_night.jpg", "the_scream.jpg"]
    for name in names:
        shutil.copy(images["painting"], tmp_path / name)
    window.resize(1280, 720)
    assert drop_files(window.style_pane, [str(tmp_path / name) for name in names])
    qtbot.wait(50)
    labels = window.style_pane.findChildren(ElidedLabel)
    assert sorted(label.text() for label in labels) == names


def test_the_painting_rows_fit_the_narrowest_pane(window, qtbot, images):
    assert drop_files(window.style_pane, [images["painting"]])
    window.resize(1, 1)
    qtbot.wait(50)
    assert window.width() <= 1000
    row_weight = window.style_pane.findChild(QAbstractSpinBox)
    edit = row_weight.lineEdit()
    assert edit.text() == "1.00"
    assert edit.fontMetrics().horizontalAdvance("1.00") <= edit.width()  # not cut to "1"
    for label in window.style_pane.findChildren(QLabel):
        if label.isVisibleTo(window) and not label.wordWrap() and label.text():
            assert isinstance(label, ElidedLabel) or label.width() >= label.sizeHint().width()
