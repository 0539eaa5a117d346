"""A strength control for a loss weight: a 0–100 slider a person can reason about, with the
exact weight beside it, typeable.

50 is the default weight; each 50 points multiply or divide it by ten (STRENGTH_DECADES),
so one point is about 5 % and a 50 px drag a few times the weight, never orders of
magnitude (the old log slider went from 1e6 to 1.2e10 in 50 px). 0 is off (weight 0).
A weight typed beyond the slider's reach is kept as typed; the slider then rests at its end."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSlider, QWidget

STRENGTH_MAX = 100
STRENGTH_DEFAULT = 50
STRENGTH_DECADES = 1.0  # from 50 to 100: ten times the default weight


def strength_to_weight(strength: int, default: float) -> float:
    """The weight at slider position `strength` (0: off; 50: `default`), to 3 digits."""
    if strength <= 0:
        return 0.0
    exponent = (strength - STRENGTH_DEFAULT) / (STRENGTH_MAX - STRENGTH_DEFAULT)
    weight = default * 10 ** (exponent * STRENGTH_DECADES)
    return float(f"{weight:.3g}")  # round numbers: 6.3, not 6.294627...


def weight_to_strength(weight: float, default: float) -> int:
    """The slider position nearest `weight`, held within 0–100 (1 for any weight above 0)."""
    if weight <= 0 or default <= 0:
        return 0
    exponent = math.log10(weight / default) / STRENGTH_DECADES
    strength = STRENGTH_DEFAULT + exponent * (STRENGTH_MAX - STRENGTH_DEFAULT)
    return max(1, min(STRENGTH_MAX, round(strength)))


def weight_text(value: float) -> str:
    return f"{value:.3g}" if 1e-3 <= value < 1e4 or value == 0 else f"{value:.2g}"


class StrengthSlider(QWidget):
    """Slider (strength 0–100), the strength as a number, and a box with the exact weight.
    `value` is the weight; valueChanged(weight) comes once per release, key press or edit:
    each change of a weight resets L-BFGS's memory."""

    valueChanged = Signal(float)

    def __init__(self, default: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.default = default
        self.value = default
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STRENGTH_MAX)
        self.slider.setPageStep(10)
        self.slider.setTracking(False)  # one change on release, not one per pixel
        self.strength = QLabel()
        self.strength.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.strength.setFixedWidth(QFontMetrics(self.font()).horizontalAdvance("100") + 4)
        self.box = QLineEdit()
        self.box.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.box.setFixedWidth(QFontMetrics(self.font()).horizontalAdvance("0.000e+00"))
        self.box.setToolTip("The exact weight: type any number (e.g. 7.5 or 3e9), then Enter")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.strength)
        layout.addWidget(self.box)
        self.slider.sliderMoved.connect(self._on_moved)
        self.slider.valueChanged.connect(self._on_slider)
        self.box.editingFinished.connect(self._on_typed)
        self.set_value(default)

    def set_value(self, weight: float) -> None:
        self.value = weight
        self.slider.blockSignals(True)
        self.slider.setValue(weight_to_strength(weight, self.default))
        self.slider.blockSignals(False)
        self.strength.setText(str(self.slider.value()))
        self.box.setText(weight_text(weight))

    @Slot(int)
    def _on_moved(self, strength: int) -> None:
        self.strength.setText(str(strength))  # the weight follows on release
        self.box.setText(weight_text(strength_to_weight(strength, self.default)))

    @Slot(int)
    def _on_slider(self, strength: int) -> None:
        self._emit(strength_to_weight(strength, self.default))

    @Slot()
    def _on_typed(self) -> None:
        try:
            weight = float(self.box.text().replace(",", "."))
        except ValueError:
            weight = -1
        if not math.isfinite(weight) or weight < 0:
            self.box.setText(weight_text(self.value))  # not a weight: show the one in force
            return
        self._emit(weight)

    def _emit(self, weight: float) -> None:
        if weight != self.value:
            self.set_value(weight)
            self.valueChanged.emit(weight)
        else:
            self.set_value(weight)  # the slider may sit one point off the weight: put it back
