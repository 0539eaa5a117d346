"""The settings panel. Its controls are made from the settings' declarations
(gui/bind.py); each writes to AppState and redraws from its settingsChanged signal, and
none holds settings of its own. This file only lays them out and adds the few controls
that are not one field: the preset, the per-layer weights, Coarse to fine and the model."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.device import absent_devices
from engine.presets import preset_names
from engine.settings import LIVE_FIELDS, SPECS, RunSettings, sqrt2_scales, with_size
from gui.bind import BoundSpinBox, bound_control, tooltip
from gui.state import AppState
from gui.strength_slider import StrengthSlider

PRESET_TIPS = {
    "Quick finish": "L-BFGS from the photo until the picture settles: soonest done.",
    "Classic (Gatys)": "The published method, at one size (L-BFGS, Gram matrices).",
    "Smooth": "Clean strokes without speckle, coarse to fine (averaged Adam, textures and "
    "colours matched).",
    "Fast preview": "A quick look at 256 px in 40 steps a scale.",
}
MODEL_TIP = "The trained network that sees the style. File ▸ Model weights… adds more."
MODEL_MISSING = "Not installed: File ▸ Model weights… to download or import it."
NO_MODEL = "None installed: File ▸ Model weights…"
# A VGG layer in words: its block (relu1_… to relu5_…) says how large a detail it sees.
LAYER_WORDS = {"1": "Finest brushwork", "2": "Fine brushwork", "3": "Brush strokes",
               "4": "Shapes", "5": "Large shapes"}  # fmt: skip
COARSE_TIP = "Paint small first (128 px, growing by √2), then at full size: sooner and cheaper."
# The rows of the panel, top to bottom; a name is a RunSettings field, made from its
# declaration; the names in capitals are the panel's own controls.
MAIN_ROWS = ("PRESET", "content_weight", "style_weight", "tv_weight", "LAYERS", "optimizer",
             "size", "steps", "init", "seed", "style_scale", "preserve_colors", "COARSE",
             "snapshot_every", "MODEL", "device", "DETECTED", "precision",
             "QUALITY")  # fmt: skip
QUALITY_ROWS = ("average", "style_statistic", "padding", "pooling", "color_match",
                "carry_moments", "lbfgs_memory")  # fmt: skip
# The attribute each field's control is known by (tests and the window use them).
ATTRIBUTES = {"preserve_colors": "preserve", "style_statistic": "statistic",
              "carry_moments": "carry"}  # fmt: skip


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


class SizeBox(BoundSpinBox):
    """The output size: a coarse-to-fine ladder follows it (engine/settings.with_size)."""

    def commit(self, *_) -> None:
        resized = with_size(self.state.settings, self.value())
        self.state.set_settings(size=resized.size, scales=resized.scales)


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
        self.fields: dict[str, QWidget] = {}  # RunSettings field -> its control
        for name in (*MAIN_ROWS, *QUALITY_ROWS):
            if name in SPECS:
                control = SizeBox(state, name) if name == "size" else bound_control(state, name)
                self.fields[name] = control
                setattr(self, ATTRIBUTES.get(name, name), control)
        self.snapshot_every.setSpecialValueText("off")
        self._make_preset()
        self.layers_box = QWidget()
        self.layers_button = _SectionButton(SPECS["style_layer_weights"].label, self.layers_box)
        self.layers_form = QFormLayout(self.layers_box)
        self.layers_form.setContentsMargins(16, 0, 0, 0)
        self.layer_spins: list[QDoubleSpinBox] = []
        self._layer_rows: tuple[str, ...] = ()  # the style layers the rows are for
        self.coarse = QCheckBox("Coarse to fine (small sizes first)")
        self.coarse.setToolTip(COARSE_TIP)
        self.coarse.toggled.connect(self._on_coarse)
        self.model = QComboBox()
        self.model.setToolTip(MODEL_TIP)
        self.model.setPlaceholderText(NO_MODEL)
        self.model.currentIndexChanged.connect(self._on_model)
        for name, reason in absent_devices().items():  # shown, so the artist sees why not
            item = self.device.model().item(self.device.findData(name))
            item.setText(f"{item.text()} — not available")
            item.setEnabled(False)
            item.setToolTip(reason)
        self.detected = QLabel("Detected: …")
        self.detected.setObjectName("Caption")
        self.detected.setWordWrap(True)
        # Quality options, collapsed: the presets set them for most people.
        self.quality_box = QWidget()
        self.quality_button = _SectionButton("Quality", self.quality_box)
        quality = QFormLayout(self.quality_box)
        quality.setContentsMargins(16, 0, 0, 0)
        for name in QUALITY_ROWS:
            # Its checkboxes span the row: in the field column, the longest ("Carry momentum
            # across scales") plus the label column pushed the panel past 1280 px windows.
            self._add_row(quality, name, span_checkboxes=True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in MAIN_ROWS:
            self._add_row(form, name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addStretch(1)

        # Those that shape the run (targets, network, sizes) are locked while it goes; the
        # live ones (declared live) reach it at its next step.
        live = [self.fields[name] for name in self.fields if name in LIVE_FIELDS]
        self.live_toggles = [w for w in live if isinstance(w, QCheckBox)]
        fixed = [widget for name, widget in self.fields.items() if name not in LIVE_FIELDS]
        self.static_controls = [self.preset, self.coarse, self.model, *fixed]
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

    def _make_preset(self) -> None:
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

    def _add_row(self, form: QFormLayout, name: str, span_checkboxes: bool = False) -> None:
        own = {"PRESET": ("Preset", self.preset), "LAYERS": None, "COARSE": ("", self.coarse),
               "MODEL": ("Model", self.model), "DETECTED": ("", self.detected),
               "QUALITY": None}  # fmt: skip
        if name == "LAYERS":
            form.addRow(self.layers_button)
            form.addRow(self.layers_box)
        elif name == "QUALITY":
            form.addRow(self.quality_button)
            form.addRow(self.quality_box)
        elif name in own:
            form.addRow(*own[name])
        elif isinstance(self.fields[name], QCheckBox) and span_checkboxes:
            form.addRow(self.fields[name])  # its label is its text
        elif isinstance(self.fields[name], QCheckBox):
            form.addRow("", self.fields[name])
        elif isinstance(self.fields[name], StrengthSlider):
            # The label above, the slider the panel's full width below: beside a label it
            # was 126 px long, and a 50 px drag multiplied the weight by 8.
            label = QLabel(SPECS[name].label)
            label.setBuddy(self.fields[name].slider)
            form.addRow(label)
            form.addRow(self.fields[name])
        else:
            form.addRow(SPECS[name].label, self.fields[name])

    @Slot(object)
    def refresh(self, settings: RunSettings) -> None:
        """What the bound controls do not show themselves: layers, preset, Coarse to fine."""
        self._refresh_layers(settings)
        for widget in (self.preset, self.coarse):
            widget.blockSignals(True)
        label = self.state.preset_label()
        # A preset shown as picked, or none picked with "<name> (modified)" in its place.
        index = self.preset.findData(label)
        self.preset.setCurrentIndex(index)
        self.preset.setPlaceholderText(label)
        font = self.preset.font()
        font.setItalic(index < 0)  # "Custom" and "(modified)" in italic, not greyed
        self.preset.setFont(font)
        self.coarse.setChecked(len(settings.sizes) > 1)
        for widget in (self.preset, self.coarse):
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
        if self._layer_rows != settings.style_layers:
            while self.layers_form.rowCount():
                self.layers_form.removeRow(0)
            self.layer_spins = []
            for index, layer in enumerate(settings.style_layers):
                spin = QDoubleSpinBox(minimum=0.0, maximum=100.0, singleStep=0.1, decimals=2)
                spin.setProperty("layer_index", index)
                tip = f"{tooltip('style_layer_weights')} This row: layer {layer}."
                spin.setToolTip(tip)
                spin.editingFinished.connect(self._on_layer_weight)
                label = QLabel(layer_words(layer))
                label.setToolTip(tip)
                self.layers_form.addRow(label, spin)
                self.layer_spins.append(spin)
            self._layer_rows = settings.style_layers
        for spin, weight in zip(self.layer_spins, settings.style_layer_weights, strict=False):
            spin.blockSignals(True)
            spin.setValue(weight)
            spin.blockSignals(False)

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
    def _on_coarse(self, coarse: bool) -> None:
        size = self.state.settings.size
        ladder = () if len(sqrt2_scales(size)) > 1 else (max(32, size // 2), size)  # √2 from 128
        self.state.set_settings(scales=ladder if coarse else (), coarse_to_fine=coarse)

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


def layer_words(layer: str) -> str:
    """ "Fine brushwork" for relu2_1: what a style layer sees, by its block; the layer's
    own name for one that is not a VGG block's."""
    block = layer.removeprefix("relu").removeprefix("conv").partition("_")[0]
    words = LAYER_WORDS.get(block)
    if words is None:
        return layer
    return words if layer.endswith("_1") else f"{words} ({layer})"


__all__ = ["ControlsPanel", "LIVE_FIELDS", "layer_words"]
