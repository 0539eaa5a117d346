"""Controls bound to one RunSettings field, made from its declaration (engine/settings.py):
label, tooltip, choices and range come from the field. Each writes the user's value to
AppState and redraws from its settingsChanged signal; none holds a setting of its own.

(krita-ai-diffusion's `bind()` in `ai_diffusion/ui/widget.py` is the model: a widget and a
property name, and the two stay in step.)"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QToolTip, QWidget

from engine.settings import SPECS, RunSettings
from gui.strength_slider import StrengthSlider

STRENGTH_TIP = (
    "50 is the usual weight; 100 is ten times it, 1 a tenth, 0 off. The box "
    "beside it holds the exact weight."
)


def tooltip(name: str) -> str:
    """The field's help as a sentence."""
    text = SPECS[name].help
    return text[:1].upper() + text[1:] + "."


class _Bound:
    """What every bound control does; `current()` reads it, `display(value)` shows one."""

    def bind(self, state, name: str) -> None:
        self.state, self.field = state, name
        self.setToolTip(tooltip(name))
        state.settingsChanged.connect(self.show_settings)
        self.show_settings(state.settings)

    @Slot(object)
    def show_settings(self, settings: RunSettings) -> None:
        self.blockSignals(True)  # showing a value is not the user changing it
        self.display(getattr(settings, self.field))
        self.blockSignals(False)

    @Slot()
    def commit(self, *_) -> None:
        self.state.set_settings(**{self.field: self.current()})


class BoundCheckBox(QCheckBox, _Bound):
    def __init__(self, state, name: str, parent: QWidget | None = None):
        super().__init__(SPECS[name].label, parent)
        self.bind(state, name)
        self.toggled.connect(self.commit)

    def current(self) -> bool:
        return self.isChecked()

    def display(self, value: bool) -> None:
        self.setChecked(value)


class BoundComboBox(QComboBox, _Bound):
    def __init__(self, state, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        for value, label in SPECS[name].choices:
            self.addItem(label, value)
        self.fixed_items = self.count()
        self.bind(state, name)
        self.currentIndexChanged.connect(self.commit)

    def current(self) -> str:
        return self.currentData()

    def display(self, value: str) -> None:
        while self.count() > self.fixed_items:  # an earlier file's item
            self.removeItem(self.count() - 1)
        if self.findData(value) < 0:  # a value beyond the choices: an init image's path
            self.addItem(Path(value).name, value)
        self.setCurrentIndex(self.findData(value))


def _set_range(box: QSpinBox | QDoubleSpinBox, name: str, step: float) -> None:
    """The window's range and step for the field (its rule's range where none is given),
    and its unit."""
    spec = SPECS[name]
    low, high, step = spec.window or (spec.rule.low, spec.rule.high, step)
    kind = int if isinstance(box, QSpinBox) else float
    box.setRange(kind(low), kind(high))
    box.setSingleStep(kind(step))
    if spec.unit:
        box.setSuffix(f" {spec.unit}")


class BoundSpinBox(QSpinBox, _Bound):
    """A whole number. One typed above the maximum is clamped to it, and a tooltip at the
    box says so: QSpinBox refuses the last keystroke instead, so 6000 became 600."""

    def __init__(self, state, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        _set_range(self, name, 1)
        self.bind(state, name)
        self.editingFinished.connect(self.commit)
        self.editingFinished.connect(self._say_if_clamped)
        self._typed_above = 0  # what was typed, when it was above the maximum

    def current(self) -> int:
        return self.value()

    def _number(self, text: str) -> int | None:
        digits = text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        return int(digits) if digits.isdigit() else None

    def validate(self, text: str, pos: int) -> object:
        number = self._number(text)
        if number is not None and number > self.maximum():
            return QValidator.State.Intermediate, text, pos  # fixed up at Enter
        return super().validate(text, pos)

    def fixup(self, text: str) -> str:
        number = self._number(text)
        if number is not None and number > self.maximum():
            self._typed_above = number
            return self.textFromValue(self.maximum()) + self.suffix()
        return super().fixup(text)

    @Slot()
    def _say_if_clamped(self) -> None:
        if self._typed_above:
            unit = self.suffix()
            QToolTip.showText(self.mapToGlobal(self.rect().bottomLeft()),
                              f"{SPECS[self.field].label} is at most {self.maximum()}{unit}: "
                              f"{self._typed_above}{unit} became {self.maximum()}{unit}.",
                              self)  # fmt: skip
            self._typed_above = 0

    def display(self, value: int) -> None:
        self.setValue(value)


class BoundDoubleSpinBox(QDoubleSpinBox, _Bound):
    def __init__(self, state, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(2)
        _set_range(self, name, 0.1)
        self.bind(state, name)
        self.editingFinished.connect(self.commit)

    def current(self) -> float:
        return round(self.value(), self.decimals())

    def display(self, value: float) -> None:
        self.setValue(value)


class BoundStrengthSlider(StrengthSlider, _Bound):
    """A loss weight as a strength, 50 at the engine's default weight: decades matter more
    than digits, and a person reasons better about "stronger" than about 5 or 3e9."""

    def __init__(self, state, name: str, parent: QWidget | None = None):
        super().__init__(getattr(RunSettings(), name), parent)
        self.bind(state, name)
        self.slider.setToolTip(f"{tooltip(name)} {STRENGTH_TIP}")
        self.valueChanged.connect(self.commit)

    def current(self) -> float:
        return self.value

    def display(self, value: float) -> None:
        self.set_value(value)


def bound_control(state, name: str, parent: QWidget | None = None) -> QWidget:
    """The control a field's declaration asks for: a box for on/off, a list for choices,
    a strength slider for a loss weight (a number with a window range), else a number box."""
    spec = SPECS[name]
    if spec.rule.kind == "bool":
        return BoundCheckBox(state, name, parent)
    if spec.choices:
        return BoundComboBox(state, name, parent)
    if spec.rule.kind == "int":
        return BoundSpinBox(state, name, parent)
    if spec.live:
        return BoundStrengthSlider(state, name, parent)
    return BoundDoubleSpinBox(state, name, parent)
