"""A small live plot of the content and style losses (log scale)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from gui.state import AppState

CONTENT_COLOR = QColor(80, 160, 255)
STYLE_COLOR = QColor(255, 140, 60)
MAX_POINTS = 2000


class LossPlot(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(90)
        self.points: list[tuple[int, float, float]] = []
        state.lossesAppended.connect(self.append)
        state.historyCleared.connect(self.clear)

    @Slot(object)
    def append(self, history: list) -> None:
        if history and self.points and history[0][0] <= self.points[-1][0]:
            # The count went back (continued from a snapshot): its steps replace the later ones.
            self.points = [point for point in self.points if point[0] < history[0][0]]
        self.points.extend(history)
        if len(self.points) > MAX_POINTS:  # keep every other point of the old part
            self.points = self.points[: MAX_POINTS // 2 : 2] + self.points[MAX_POINTS // 2 :]
        self.update()

    @Slot()
    def clear(self) -> None:
        self.points = []
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(palette.ColorRole.Base))
        text = palette.color(palette.ColorRole.PlaceholderText)
        area = QRectF(self.rect()).adjusted(6, 18, -6, -6)
        painter.setPen(CONTENT_COLOR)
        painter.drawText(QPointF(6, 13), "content")
        painter.setPen(STYLE_COLOR)
        painter.drawText(QPointF(62, 13), "style")
        if len(self.points) < 2:
            painter.setPen(text)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "losses appear here")
            return
        logs = [math.log10(max(v, 1e-12)) for p in self.points for v in p[1:]]
        low, high = min(logs), max(logs)
        span = max(high - low, 1e-6)
        first, last = self.points[0][0], self.points[-1][0]
        width = max(last - first, 1)
        painter.setPen(text)
        header = QRectF(0, 0, self.width() - 6, 16)
        painter.drawText(header, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         f"log scale, {last} steps")  # fmt: skip
        for column, color in ((1, CONTENT_COLOR), (2, STYLE_COLOR)):
            points = []
            for point in self.points:
                x = area.left() + (point[0] - first) / width * area.width()
                height = (math.log10(max(point[column], 1e-12)) - low) / span * area.height()
                points.append(QPointF(x, area.bottom() - height))
            # One call, not one QPolygonF.append per point: with PySide6 6.12.0 each call
            # dropped a reference to None (pyproject.toml), and a long run has thousands.
            painter.setPen(QPen(color, 1.6))
            painter.drawPolyline(QPolygonF(points))
