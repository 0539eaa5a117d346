"""The loss weights as strengths (issue 12): a 0–100 slider centred on the default weight,
gentle to drag, with the exact weight still typeable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QStyle, QStyleOptionSlider

from engine.settings import RunSettings
from gui.strength_slider import StrengthSlider, strength_to_weight, weight_to_strength

WEIGHTS = ("style_weight", "content_weight", "tv_weight")


def test_fifty_is_the_default_and_the_ends_a_tenth_and_ten_times():
    for default in (5.0, 1.0, 0.3):
        assert strength_to_weight(50, default) == default
        assert strength_to_weight(100, default) == pytest.approx(10 * default, rel=1e-3)
        assert strength_to_weight(1, default) == pytest.approx(default / 10, rel=0.05)
        assert strength_to_weight(0, default) == 0  # off
        for strength in (0, 1, 17, 50, 63, 99, 100):
            assert weight_to_strength(strength_to_weight(strength, default), default) == strength
    assert weight_to_strength(3e9, 5.0) == 100  # typed beyond reach: the slider at its end


def handle_centre(slider) -> QPoint:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    control = QStyle.ComplexControl.CC_Slider
    rect = slider.style().subControlRect(control, option, QStyle.SubControl.SC_SliderHandle,
                                         slider)  # fmt: skip
    return rect.center()


def test_a_50_px_drag_changes_a_weight_a_few_times_not_by_orders_of_magnitude(window, qtbot):
    state, defaults = window.state, RunSettings()
    window.resize(1280, 720)
    state.set_settings(**{name: getattr(defaults, name) for name in WEIGHTS})
    for name in WEIGHTS:
        control = getattr(window.controls, name)
        slider = control.slider
        qtbot.waitUntil(slider.isVisible)
        assert slider.value() == 50 and control.strength.text() == "50"
        start = handle_centre(slider)
        QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for dx in range(5, 55, 5):  # a drag, in steps as a hand makes it
            QTest.mouseMove(slider, start + QPoint(dx, 0))
        QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           start + QPoint(50, 0))  # fmt: skip
        ratio = getattr(state.settings, name) / getattr(defaults, name)
        assert 1.2 < ratio < 5, (name, ratio, slider.width())
        assert control.box.text() == f"{getattr(state.settings, name):.3g}"


def test_arrow_keys_nudge_the_strength_by_one_point(window, qtbot):
    state, default = window.state, RunSettings().style_weight
    state.set_settings(style_weight=default)
    slider = window.controls.style_weight.slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert state.settings.style_weight == strength_to_weight(51, default)
    assert 1.03 < state.settings.style_weight / default < 1.06
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    assert state.settings.style_weight == 0  # strength 0: off


def test_an_exact_weight_is_typed_beside_the_slider(window, qtbot):
    control = window.controls.style_weight
    control.box.selectAll()
    qtbot.keyClicks(control.box, "3e9")
    qtbot.keyClick(control.box, Qt.Key.Key_Return)
    assert window.state.settings.style_weight == 3e9
    assert control.slider.value() == 100 and control.box.text() == "3e+09"
    control.box.selectAll()
    qtbot.keyClicks(control.box, "lots")
    qtbot.keyClick(control.box, Qt.Key.Key_Return)
    assert window.state.settings.style_weight == 3e9 and control.box.text() == "3e+09"


def test_the_rows_are_called_strengths_in_plain_words(window):
    labels = {label.text(): label for label in window.controls.findChildren(QLabel)}
    for text, control in (("Style strength", window.controls.style_weight),
                          ("Photo strength", window.controls.content_weight),
                          ("Smoothness", window.controls.tv_weight)):  # fmt: skip
        assert labels[text].buddy() is control.slider
    assert "50 is the usual weight" in window.controls.style_weight.slider.toolTip()


def test_a_standalone_slider_reports_once_per_release(qtbot):
    slider = StrengthSlider(2.0)
    qtbot.addWidget(slider)
    with qtbot.waitSignal(slider.valueChanged) as signal:
        slider.slider.setValue(100)
    assert signal.args == [20.0] and slider.value == 20.0
