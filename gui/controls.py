"""The settings panel. Every control writes to AppState and redraws from its
settingsChanged signal; none holds settings of its own."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
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

from engine.device import DEVICE_CHOICES, absent_devices
from engine.presets import preset_names
from engine.run import LIVE_FIELDS
from engine.settings import OPTIMIZERS, RunSettings, sqrt2_scales
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


PRESET_TIPS = {
    "Classic (Gatys)": "The published method: L-BFGS on Gram matrices at one size.",
    "Smooth": "Averaged Adam, Gram + moments, clean borders, coarse to fine: no speckle.",
    "Fast preview": "A quick look at 256 px in 40 steps a scale.",
}
STATISTICS = (("Gram", "gram"), ("Moments", "moments"), ("Gram + moments", "gram+moments"))
PADDINGS = (("Zeros", "zeros"), ("Replicate", "replicate"), ("Reflect", "reflect"))
PRECISIONS = (("Full (fp32)", "fp32"), ("Mixed (bf16)", "mixed"))
PRECISION_TIP = (
    "Mixed runs the network in bfloat16: faster on recent NVIDIA GPUs (RTX 30 and newer) "
    "and CPUs with bfloat16 units. Elsewhere Impasto runs in full precision and says so."
)
MODEL_TIP = "The trained network that sees the style. File ▸ Model weights… adds more."
MODEL_MISSING = "Not installed: File ▸ Model weights… to download or import it."
NO_MODEL = "None installed: File ▸ Model weights…"
POOLINGS = (("Max", "max"), ("Average", "avg"), ("Scaled average", "avg_scaled"))
# One line each: why the option helps.
QUALITY_TIPS = {
    "average": "Shows and saves a running average of the steps: Adam's speckle cancels out.",
    "statistic": "Moments match each feature's mean and spread: steadier colours than Gram.",
    "padding": "Replicate or reflect padding avoids dark or busy borders.",
    "pooling": "Average pooling gives smoother, less grainy texture; scaled keeps its strength.",
    "color_match": "Recolours the paintings with the photo's palette: their brushwork, "
    "its colours.",
    "carry": "Adam keeps its momentum from one size to the next: no jolt between scales.",
}


class _SectionButton(QToolButton):
    """The header of a section collapsed by default: checking it shows `box`."""

    def __init__(self, text: str, box: QWidget):
        super().__init__(text=text, checkable=True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setArrowType(Qt.ArrowType.RightArrow)
        self.setAutoRaise(True)
        self.box = box
        box.setVisible(False)
        self.toggled.connect(self._show)

    @Slot(bool)
    def _show(self, shown: bool) -> None:
        self.box.setVisible(shown)
        self.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)


def _combo(choices: tuple[tuple[str, str], ...], tip: str) -> QComboBox:
    combo = QComboBox()
    for label, value in choices:
        combo.addItem(label, value)
    combo.setToolTip(tip)
    return combo


def _placeholder_as_text(combo: QComboBox) -> None:
    """Draw the combo's placeholder in its text colour: Qt greys it, which reads as disabled."""
    palette = combo.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive,
                  QPalette.ColorGroup.Disabled):  # fmt: skip
        text = palette.color(group, QPalette.ColorRole.ButtonText)
        palette.setColor(group, QPalette.ColorRole.PlaceholderText, text)
    combo.setPalette(palette)


class ControlsPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.preset = QComboBox()
        for name in preset_names():
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_TIPS.get(name, ""),
                                    Qt.ItemDataRole.ToolTipRole)  # fmt: skip
        self.preset.setToolTip("A named starting point; every setting can still be changed")
        # activated: only the user's choice, also when the same preset is picked again
        self.preset.activated.connect(self._on_preset)
        _placeholder_as_text(self.preset)
        upright = self.preset.font()
        upright.setItalic(False)  # the list of presets stays upright when the box is italic
        for index in range(self.preset.count()):
            self.preset.setItemData(index, upright, Qt.ItemDataRole.FontRole)

        # Two decades either side of the defaults, which suit every model now that the
        # losses are relative errors: an eighth of the slider's travel is a factor of 3.2,
        # not the old 10^6 span's 30. Any other value can still be typed in the box.
        self.content_weight = LogSlider(0.01, 100)
        self.style_weight = LogSlider(0.05, 500)
        self.tv_weight = LogSlider(0.01, 100)
        self.content_weight.valueChanged.connect(self._on_content_weight)
        self.style_weight.valueChanged.connect(self._on_style_weight)
        self.tv_weight.valueChanged.connect(self._on_tv_weight)

        self.layers_box = QWidget()
        self.layers_button = _SectionButton("Style layer weights", self.layers_box)
        self.layers_form = QFormLayout(self.layers_box)
        self.layers_form.setContentsMargins(16, 0, 0, 0)
        self.layer_spins: list[QDoubleSpinBox] = []

        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem({"lbfgs": "L-BFGS", "adam": "Adam"}.get(name, name), name)
        self.size = QSpinBox(minimum=64, maximum=4096, singleStep=32, suffix=" px")
        self.steps = QSpinBox(minimum=1, maximum=10000, singleStep=50)
        self.steps.setToolTip("Optimisation steps at each size. With Coarse to fine, the run "
                              "does them at every scale, half size first, so the step counter's "
                              "total is this times the number of scales.")  # fmt: skip
        self.init = QComboBox()
        self.init.addItem("Photo", "content")
        self.init.addItem("Noise", "noise")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.preserve = QCheckBox("Keep the photo's colours")
        self.style_scale = QDoubleSpinBox(minimum=0.1, maximum=4.0, singleStep=0.1, decimals=2)
        self.coarse = QCheckBox("Coarse to fine (half size first)")
        self.snapshot_every = QSpinBox(minimum=0, maximum=10000, singleStep=5)
        self.snapshot_every.setSpecialValueText("off")
        self.model = QComboBox()
        self.model.setToolTip(MODEL_TIP)
        self.model.setPlaceholderText(NO_MODEL)
        self.device = QComboBox()
        absent = absent_devices()
        for name in DEVICE_CHOICES:
            label = {"auto": "Automatic"}.get(name, name.upper())
            if name in absent:  # shown, so the artist sees why it cannot be picked
                label = f"{label} — not available"
            self.device.addItem(label, name)
            if name in absent:
                item = self.device.model().item(self.device.count() - 1)
                item.setEnabled(False)
                item.setToolTip(absent[name])
        self.precision = _combo(PRECISIONS, PRECISION_TIP)
        self.detected = QLabel("Detected: …")
        self.detected.setObjectName("Caption")
        self.detected.setWordWrap(True)

        # Quality options (issue 8), collapsed: the presets set them for most people.
        self.quality_box = QWidget()
        self.quality_button = _SectionButton("Quality", self.quality_box)
        self.average = QCheckBox("Averaged image")
        self.average.setToolTip(QUALITY_TIPS["average"])
        self.statistic = _combo(STATISTICS, QUALITY_TIPS["statistic"])
        self.padding = _combo(PADDINGS, QUALITY_TIPS["padding"])
        self.pooling = _combo(POOLINGS, QUALITY_TIPS["pooling"])
        self.color_match = QCheckBox("Match colours to the photo")
        self.color_match.setToolTip(QUALITY_TIPS["color_match"])
        self.carry = QCheckBox("Carry momentum across scales")
        self.carry.setToolTip(QUALITY_TIPS["carry"])
        quality = QFormLayout(self.quality_box)
        quality.setContentsMargins(16, 0, 0, 0)
        quality.addRow("", self.average)
        quality.addRow("Style statistic", self.statistic)
        quality.addRow("Padding", self.padding)
        quality.addRow("Pooling", self.pooling)
        quality.addRow("", self.color_match)
        quality.addRow("", self.carry)

        self.optimizer.currentIndexChanged.connect(self._on_changed)
        self.size.editingFinished.connect(self._on_changed)
        self.steps.editingFinished.connect(self._on_changed)
        self.init.currentIndexChanged.connect(self._on_changed)
        self.seed.editingFinished.connect(self._on_changed)
        self.style_scale.editingFinished.connect(self._on_changed)
        self.coarse.toggled.connect(self._on_changed)
        self.snapshot_every.editingFinished.connect(self._on_changed)
        self.device.currentIndexChanged.connect(self._on_changed)
        self.model.currentIndexChanged.connect(self._on_model)
        for combo in (self.precision, self.statistic, self.padding, self.pooling):
            combo.currentIndexChanged.connect(self._on_changed)
        self.color_match.toggled.connect(self._on_changed)
        self.carry.toggled.connect(self._on_changed)
        # Live: these reach a running run, so each sends only itself.
        self.preserve.toggled.connect(self._on_preserve)
        self.average.toggled.connect(self._on_average)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Preset", self.preset)
        form.addRow("Content weight", self.content_weight)
        form.addRow("Style weight", self.style_weight)
        form.addRow("Smoothness (TV)", self.tv_weight)
        form.addRow(self.layers_button)
        form.addRow(self.layers_box)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Output size", self.size)
        form.addRow("Steps per scale", self.steps)
        form.addRow("Start from", self.init)
        form.addRow("Seed", self.seed)
        form.addRow("Style scale", self.style_scale)
        form.addRow("", self.preserve)
        form.addRow("", self.coarse)
        form.addRow("Snapshot every", self.snapshot_every)
        form.addRow("Model", self.model)
        form.addRow("Device", self.device)
        form.addRow("", self.detected)
        form.addRow("Precision", self.precision)
        form.addRow(self.quality_button)
        form.addRow(self.quality_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addStretch(1)

        # These shape the run (targets, network, sizes): locked while it goes.
        self.static_controls = [self.preset, self.optimizer, self.size, self.steps, self.init,
                                self.seed, self.style_scale, self.coarse, self.snapshot_every,
                                self.model, self.device, self.precision, self.statistic,
                                self.padding,
                                self.pooling, self.color_match, self.carry]  # fmt: skip
        self.live_toggles = [self.preserve, self.average]
        self._tips = {widget: widget.toolTip() for widget in self.static_controls}
        for combo in self.findChildren(QComboBox):
            # A combo is at least as wide as its longest item or placeholder by default; the
            # Model box's texts then pushed the panel past its scroll area, hiding every value
            # box at 1280 px. Narrower, a combo shortens its text instead.
            combo.setMinimumWidth(120)
        state.settingsChanged.connect(self.refresh)
        state.statusChanged.connect(self._on_status)
        state.deviceChanged.connect(self._on_device)
        state.modelsChanged.connect(self.refresh_models)
        self.refresh(state.settings)
        self.refresh_models()
        self._on_device(state.device_name)

    @Slot(object)
    def refresh(self, settings: RunSettings) -> None:
        self.content_weight.set_value(settings.content_weight)
        self.style_weight.set_value(settings.style_weight)
        self.tv_weight.set_value(settings.tv_weight)
        self._refresh_layers(settings)
        widgets = [*self.static_controls, *self.live_toggles]
        for widget in widgets:
            widget.blockSignals(True)
        label = self.state.preset_label()
        # A preset shown as picked, or none picked with "<name> (modified)" in its place.
        index = self.preset.findData(label)
        self.preset.setCurrentIndex(index)
        self.preset.setPlaceholderText(label)
        font = self.preset.font()
        font.setItalic(index < 0)  # "Custom" and "(modified)" in italic, not greyed
        self.preset.setFont(font)
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
        self.precision.setCurrentIndex(max(0, self.precision.findData(settings.precision)))
        self.average.setChecked(settings.average)
        self.statistic.setCurrentIndex(max(0, self.statistic.findData(settings.style_statistic)))
        self.padding.setCurrentIndex(max(0, self.padding.findData(settings.padding)))
        self.pooling.setCurrentIndex(max(0, self.pooling.findData(settings.pooling)))
        self.color_match.setChecked(settings.color_match)
        self.carry.setChecked(settings.carry_moments)
        for widget in widgets:
            widget.blockSignals(False)

    @Slot()
    def refresh_models(self) -> None:
        """Every catalogue model; those not installed are shown, but cannot be picked."""
        combo = self.model
        combo.blockSignals(True)
        combo.clear()
        for choice in self.state.models:
            missing = choice.problem == "not installed"
            label = choice.title if choice.installed else (
                f"{choice.title} — {'not installed' if missing else 'unusable'}")  # fmt: skip
            combo.addItem(label, choice.name)
            if not choice.installed:
                item = combo.model().item(combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip(MODEL_MISSING if missing else choice.problem)
        combo.setCurrentIndex(combo.findData(self.state.model))  # -1: the placeholder
        combo.blockSignals(False)

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

    @Slot(int)
    def _on_preset(self, index: int) -> None:
        self.state.apply_preset(self.preset.itemData(index))

    @Slot(int)
    def _on_model(self, index: int) -> None:
        if not self.state.set_model(self.model.itemData(index)):
            self.refresh_models()  # refused: show the model that will run

    @Slot(bool)
    def _on_preserve(self, checked: bool) -> None:
        self.state.set_settings(preserve_colors=checked)

    @Slot(bool)
    def _on_average(self, checked: bool) -> None:
        self.state.set_settings(average=checked)

    @Slot()
    def _on_changed(self, *_) -> None:
        size = self.size.value()
        self.state.set_settings(
            optimizer=self.optimizer.currentData(),
            size=size,
            steps=self.steps.value(),
            init=self.init.currentData(),
            seed=self.seed.value(),
            style_scale=round(self.style_scale.value(), 2),
            scales=self._scales(size, self.coarse.isChecked()),
            snapshot_every=self.snapshot_every.value(),
            device=self.device.currentData(),
            precision=self.precision.currentData(),
            style_statistic=self.statistic.currentData(),
            padding=self.padding.currentData(),
            pooling=self.pooling.currentData(),
            color_match=self.color_match.isChecked(),
            carry_moments=self.carry.isChecked(),
        )

    def _scales(self, size: int, coarse: bool) -> tuple[int, ...]:
        """Keep a preset's coarse-to-fine sizes unless the size or the checkbox changed."""
        current = self.state.settings
        if not coarse:
            return ()
        if current.scales and size == current.size:
            return current.scales
        if current.scales and current.scales == sqrt2_scales(current.size):
            return sqrt2_scales(size)  # a √2 ladder (Smooth) stays one at the new size
        return (max(32, size // 2), size)

    @Slot(str)
    def _on_status(self, status: str) -> None:
        idle = not self.state.active
        for widget in self.static_controls:
            widget.setEnabled(idle)  # these shape the run; weights and live toggles stay
            hint = self._tips[widget] if idle else "Applies to the next run (stop first)"
            widget.setToolTip(hint)

    @Slot(str)
    def _on_device(self, name: str) -> None:
        self.detected.setText(f"Detected: {name}")


__all__ = ["ControlsPanel", "LogSlider", "LIVE_FIELDS"]
