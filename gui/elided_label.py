"""A label for a file name that shortens it only when it does not fit, keeping the extension."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QLabel, QSizePolicy

ELLIPSIS = "…"


def elide_name(metrics: QFontMetricsF, name: str, width: float) -> str:
    """`name` whole when it fits in `width` px; else its stem shortened in the middle with …,
    the extension kept whole: "starry_ni…rhone.jpg"."""
    # Our own fit test: elidedText shortens a name that fits to the pixel when the width is
    # a whole number and the name's exact advance has a fraction over it.
    if metrics.horizontalAdvance(name) <= width:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if stem and 0 < len(extension) <= 5 else ""
    stem = name[: len(name) - len(suffix)]
    room = width - metrics.horizontalAdvance(suffix)
    for mode in (Qt.TextElideMode.ElideMiddle, Qt.TextElideMode.ElideRight) if suffix else ():
        short = metrics.elidedText(stem, mode, room)  # ElideRight: room for no end of the stem
        if short and short != ELLIPSIS:
            return short + suffix
    return metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, width)  # too narrow to keep it


class ElidedLabel(QLabel):
    """A label that shortens its text with … to fit its current width, and shows it whole as a
    tooltip. It takes what width the layout gives (it asks for none), so the elision is
    recomputed whenever that width or the font changes."""

    def __init__(self, text: str, parent=None):
        super().__init__(text, parent)
        self.full = text
        self.setToolTip(text)
        self.setMinimumWidth(30)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def fit(self) -> None:
        width = self.contentsRect().width() - 2 * self.margin()
        self.setText(elide_name(QFontMetricsF(self.font()), self.full, width))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit()
