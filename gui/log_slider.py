"""A log-scale slider with a box for typing the exact value (e.g. 1e6 or 0)."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSlider, QWidget

TICKS = 1000


class LogSlider(QWidget):
    """A log-scale slider with a box for typing the exact value (e.g. 1e6 or 0)."""

    valueChanged = Signal(float)

    def __init__(self, low: float, high: float, parent=None):
        super().__init__(parent)
        self.low, self.high = math.log10(low), math.log10(high)
        self.value = low
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, TICKS)
        self.slider.setTracking(False)  # one change on release: each change resets L-BFGS
        self.box = QLineEdit()
        self.box.setFixedWidth(72)
        self.box.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.box)
        self.slider.sliderMoved.connect(self._on_moved)
        self.slider.valueChanged.connect(self._on_slider)
        self.box.editingFinished.connect(self._on_typed)

    def set_value(self, value: float) -> None:
        self.value = value
        self.slider.blockSignals(True)
        self.slider.setValue(self._tick(value))
        self.slider.blockSignals(False)
        self.box.setText(_format(value))

    def _tick(self, value: float) -> int:
        if value <= 0:
            return 0
        fraction = (math.log10(value) - self.low) / (self.high - self.low)
        return round(min(1.0, max(0.0, fraction)) * TICKS)

    def _from_tick(self, tick: int) -> float:
        value = 10 ** (self.low + tick / TICKS * (self.high - self.low))
        return float(f"{value:.2g}")  # round numbers: 2e+06, not 1.99526e+06

    @Slot(int)
    def _on_moved(self, tick: int) -> None:
        self.box.setText(_format(self._from_tick(tick)))

    @Slot(int)
    def _on_slider(self, tick: int) -> None:
        self._emit(self._from_tick(tick))

    @Slot()
    def _on_typed(self) -> None:
        try:
            value = float(self.box.text().replace(",", "."))
        except ValueError:
            value = -1
        if not math.isfinite(value) or value < 0:
            self.box.setText(_format(self.value))
            return
        self._emit(value)

    def _emit(self, value: float) -> None:
        if value != self.value:
            self.set_value(value)
            self.valueChanged.emit(value)


def _format(value: float) -> str:
    return f"{value:.3g}" if 1e-3 <= value < 1e4 or value == 0 else f"{value:.2g}"
