"""The settings panel. Every control writes to AppState and redraws from its
settingsChanged signal; none holds settings of its own."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.device import DEVICE_CHOICES
from engine.run import LIVE_FIELDS
from engine.settings import OPTIMIZERS, RunSettings
from gui.state import AppState

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


class ControlsPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.content_weight = LogSlider(1e-3, 1e3)
        self.style_weight = LogSlider(1e2, 1e12)
        self.tv_weight = LogSlider(1e-3, 1e4)
        self.content_weight.valueChanged.connect(self._on_content_weight)
        self.style_weight.valueChanged.connect(self._on_style_weight)
        self.tv_weight.valueChanged.connect(self._on_tv_weight)

        self.layers_button = QToolButton(text="Style layer weights", checkable=True)
        self.layers_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.layers_button.setArrowType(Qt.ArrowType.RightArrow)
        self.layers_button.setAutoRaise(True)
        self.layers_button.toggled.connect(self._on_layers_toggled)
        self.layers_box = QWidget()
        self.layers_form = QFormLayout(self.layers_box)
        self.layers_form.setContentsMargins(16, 0, 0, 0)
        self.layer_spins: list[QDoubleSpinBox] = []
        self.layers_box.setVisible(False)

        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem({"lbfgs": "L-BFGS", "adam": "Adam"}.get(name, name), name)
        self.size = QSpinBox(minimum=64, maximum=4096, singleStep=32, suffix=" px")
        self.steps = QSpinBox(minimum=1, maximum=10000, singleStep=50)
        self.init = QComboBox()
        self.init.addItem("Photo", "content")
        self.init.addItem("Noise", "noise")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.preserve = QCheckBox("Keep the photo's colours")
        self.style_scale = QDoubleSpinBox(minimum=0.1, maximum=4.0, singleStep=0.1, decimals=2)
        self.coarse = QCheckBox("Coarse to fine (half size first)")
        self.snapshot_every = QSpinBox(minimum=0, maximum=10000, singleStep=5)
        self.snapshot_every.setSpecialValueText("off")
        self.device = QComboBox()
        for name in DEVICE_CHOICES:
            self.device.addItem({"auto": "Automatic"}.get(name, name.upper()), name)
        self.detected = QLabel("Detected: …")
        self.detected.setObjectName("Caption")
        self.detected.setWordWrap(True)
        self.optimizer.currentIndexChanged.connect(self._on_changed)
        self.size.editingFinished.connect(self._on_changed)
        self.steps.editingFinished.connect(self._on_changed)
        self.init.currentIndexChanged.connect(self._on_changed)
        self.seed.editingFinished.connect(self._on_changed)
        self.preserve.toggled.connect(self._on_changed)
        self.style_scale.editingFinished.connect(self._on_changed)
        self.coarse.toggled.connect(self._on_changed)
        self.snapshot_every.editingFinished.connect(self._on_changed)
        self.device.currentIndexChanged.connect(self._on_changed)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Content weight", self.content_weight)
        form.addRow("Style weight", self.style_weight)
        form.addRow("Smoothness (TV)", self.tv_weight)
        form.addRow(self.layers_button)
        form.addRow(self.layers_box)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Output size", self.size)
        form.addRow("Steps", self.steps)
        form.addRow("Start from", self.init)
        form.addRow("Seed", self.seed)
        form.addRow("Style scale", self.style_scale)
        form.addRow("", self.preserve)
        form.addRow("", self.coarse)
        form.addRow("Snapshot every", self.snapshot_every)
        form.addRow("Device", self.device)
        form.addRow("", self.detected)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addStretch(1)

        self.static_controls = [self.optimizer, self.size, self.steps, self.init, self.seed,
                                self.preserve, self.style_scale, self.coarse,
                                self.snapshot_every, self.device]  # fmt: skip
        state.settingsChanged.connect(self.refresh)
        state.statusChanged.connect(self._on_status)
        state.deviceChanged.connect(self._on_device)
        self.refresh(state.settings)
        self._on_device(state.device_name)

    @Slot(object)
    def refresh(self, settings: RunSettings) -> None:
        self.content_weight.set_value(settings.content_weight)
        self.style_weight.set_value(settings.style_weight)
        self.tv_weight.set_value(settings.tv_weight)
        self._refresh_layers(settings)
        widgets = [*self.static_controls]
        for widget in widgets:
            widget.blockSignals(True)
        self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(settings.optimizer)))
        self.size.setValue(settings.size)
        self.steps.setValue(settings.steps)
        init = settings.init if settings.init in ("content", "noise") else "content"
        self.init.setCurrentIndex(self.init.findData(init))
        self.seed.setValue(settings.seed)
        self.preserve.setChecked(settings.preserve_colors)
        self.style_scale.setValue(settings.style_scale)
        self.coarse.setChecked(bool(settings.scales))
        self.snapshot_every.setValue(settings.snapshot_every)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        for widget in widgets:
            widget.blockSignals(False)

    def _refresh_layers(self, settings: RunSettings) -> None:
        role = QFormLayout.ItemRole.LabelRole
        shown = [self.layers_form.itemAt(i, role).widget().text()
                 for i in range(self.layers_form.rowCount())]  # fmt: skip
        if shown != list(settings.style_layers):
            while self.layers_form.rowCount():
                self.layers_form.removeRow(0)
            self.layer_spins = []
            for index, layer in enumerate(settings.style_layers):
                spin = QDoubleSpinBox(minimum=0.0, maximum=100.0, singleStep=0.1, decimals=2)
                spin.setProperty("layer_index", index)
                spin.editingFinished.connect(self._on_layer_weight)
                self.layers_form.addRow(QLabel(layer), spin)
                self.layer_spins.append(spin)
        for spin, weight in zip(self.layer_spins, settings.style_layer_weights, strict=False):
            spin.blockSignals(True)
            spin.setValue(weight)
            spin.blockSignals(False)

    @Slot(bool)
    def _on_layers_toggled(self, shown: bool) -> None:
        self.layers_box.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.layers_button.setArrowType(arrow)

    @Slot(float)
    def _on_content_weight(self, value: float) -> None:
        self.state.set_settings(content_weight=value)

    @Slot(float)
    def _on_style_weight(self, value: float) -> None:
        self.state.set_settings(style_weight=value)

    @Slot(float)
    def _on_tv_weight(self, value: float) -> None:
        self.state.set_settings(tv_weight=value)

    @Slot()
    def _on_layer_weight(self) -> None:
        weights = tuple(spin.value() for spin in self.layer_spins)
        self.state.set_settings(style_layer_weights=weights)

    @Slot()
    def _on_changed(self, *_) -> None:
        size = self.size.value()
        self.state.set_settings(
            optimizer=self.optimizer.currentData(),
            size=size,
            steps=self.steps.value(),
            init=self.init.currentData(),
            seed=self.seed.value(),
            preserve_colors=self.preserve.isChecked(),
            style_scale=round(self.style_scale.value(), 2),
            scales=(max(32, size // 2), size) if self.coarse.isChecked() else (),
            snapshot_every=self.snapshot_every.value(),
            device=self.device.currentData(),
        )

    @Slot(str)
    def _on_status(self, status: str) -> None:
        idle = not self.state.active
        for widget in self.static_controls:
            widget.setEnabled(idle)  # these shape the run; weights stay live
        hint = "" if idle else "Applies to the next run (stop first)"
        for widget in self.static_controls:
            widget.setToolTip(hint)

    @Slot(str)
    def _on_device(self, name: str) -> None:
        self.detected.setText(f"Detected: {name}")


__all__ = ["ControlsPanel", "LogSlider", "LIVE_FIELDS"]
