"""Numbers typed in the window (issue 17): one that breaks its field's rule is refused with a
message naming the field, and the control goes back to the value in force."""

from __future__ import annotations


def test_an_absurd_weight_typed_in_the_window_is_refused(window):
    state, box = window.state, window.controls.style_weight.box
    before = state.settings.style_weight
    box.setText("1e300")
    box.editingFinished.emit()
    assert state.settings.style_weight == before
    assert "Style strength (style_weight) must be a finite number" in window.messages.text.text()
    assert float(box.text()) == before  # the box shows the weight in force, not 1e300


def test_settings_that_break_a_rule_are_refused_with_the_field_named(window):
    state = window.state
    nan_layers = {"style_layer_weights": (float("nan"),) * 5}
    for changes in ({"seed": 2**70}, {"learning_rate": float("inf")}, {"scales": (64, 32)},
                    nan_layers):  # fmt: skip
        assert not state.set_settings(**changes)
        assert next(iter(changes)) in window.messages.text.text()


def test_an_output_size_above_the_maximum_is_clamped_and_said(window, qtbot):
    # Issue 26: typing 6000 gave 600 px, silently (the last 0 was refused).
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QToolTip

    box = window.controls.size
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, "6000")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == 4096 and window.state.settings.size == 4096
    assert QToolTip.text() == "Output size is at most 4096 px: 6000 px became 4096 px."
