"""The settings panel in plain words (issue 12): what a control does comes first, in words a
painter uses; the technical name (relu3_1, Gram, bfloat16) is in its tooltip."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QFormLayout, QLabel

from gui.controls import layer_words

JARGON = re.compile(r"relu|\bTV\b|Gram|bf16|bfloat|fp32|momentum|Wasserstein", re.IGNORECASE)


def shown_texts(panel) -> list[str]:
    """Every text the panel shows (labels, check boxes, buttons, every combo item)."""
    texts = [label.text() for label in panel.findChildren(QLabel)]
    texts += [button.text() for button in panel.findChildren(QAbstractButton)]
    for combo in panel.findChildren(QComboBox):
        texts += [combo.itemText(i) for i in range(combo.count())]
    return texts


def test_the_panel_shows_no_jargon_and_the_tooltips_keep_the_names(window, qtbot):
    controls = window.controls
    qtbot.mouseClick(controls.quality_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controls.layers_button, Qt.MouseButton.LeftButton)
    assert controls.layers_box.isVisible() and controls.quality_box.isVisible()
    jargon = [text for text in shown_texts(controls) if JARGON.search(text)]
    assert jargon == []
    assert "Gram" in controls.statistic.toolTip() and "bfloat16" in controls.precision.toolTip()
    assert "momentum" in controls.carry.toolTip()
    assert "total variation" in controls.tv_weight.toolTip()


def test_the_layer_weights_read_from_fine_brushwork_to_large_shapes(window, qtbot):
    controls = window.controls
    qtbot.mouseClick(controls.layers_button, Qt.MouseButton.LeftButton)
    form = controls.layers_form
    role = QFormLayout.ItemRole.LabelRole
    labels = [form.itemAt(row, role).widget() for row in range(form.rowCount())]
    words = ["Finest brushwork", "Fine brushwork", "Brush strokes", "Shapes", "Large shapes"]
    assert [label.text() for label in labels] == words
    assert "relu1_1" in labels[0].toolTip() and "relu5_1" in controls.layer_spins[4].toolTip()
    window.state.set_settings(style_layers=("relu3_2", "relu4_1"), style_layer_weights=(1, 2))
    assert [form.itemAt(r, role).widget().text() for r in range(form.rowCount())] == [
        "Brush strokes (relu3_2)", "Shapes"]  # fmt: skip
    assert layer_words("pool4") == "pool4"  # a name with no block: as it is
