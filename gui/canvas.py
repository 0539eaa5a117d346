"""The live canvas: shows the newest frame, with zoom, pan and a before/after split."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from gui.qimage import array_to_qimage, pil_to_qimage
from gui.state import AppState

MIN_ZOOM, MAX_ZOOM = 0.05, 32.0


class PreviewCanvas(QWidget):
    """Zoom: wheel (around the cursor), fit, 100 % (one image pixel per screen pixel).
    Pan: drag. Compare: the photo left of a split line, the result right of it; drag
    the line (or use the right button to pan while comparing)."""

    zoomChanged = Signal(float)

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("Canvas")
        self.setMinimumSize(240, 180)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.pixmap: QPixmap | None = None
        self.before: QPixmap | None = None
        self.zoom = 1.0  # image pixels -> device pixels
        self.fit = True
        self.center = QPointF(0, 0)  # image point shown at the middle of the widget
        self.compare = False
        self.split = 0.5  # fraction of the widget's width
        self._drag: tuple[str, QPointF] | None = None
        state.displayChanged.connect(self.show_image)
        state.contentChanged.connect(self._on_content)

    # --- what is shown ----------------------------------------------------------------

    @Slot(object)
    def show_image(self, picture: np.ndarray | QImage) -> None:
        """Show a picture: the state's (H, W, 3) uint8 RGB array, made a Qt image here."""
        image = picture if isinstance(picture, QImage) else array_to_qimage(picture)
        first = self.pixmap is None or self.pixmap.size() != image.size()
        self.pixmap = QPixmap.fromImage(image)
        if first and self.fit:
            self.fit_to_window()
        elif first:
            self.center = QPointF(image.width() / 2, image.height() / 2)
        self.update()

    @Slot()
    def _on_content(self) -> None:
        content = self.state.content
        preview = pil_to_qimage(content.preview) if content else None
        self.before = QPixmap.fromImage(preview) if content else None
        if content is not None and (self.pixmap is None or self.state.frame is None):
            self.show_image(preview)  # show the photo until a run starts
        self.update()

    def set_compare(self, on: bool) -> None:
        self.compare = on
        self.update()

    # --- zoom and pan -----------------------------------------------------------------

    def fit_to_window(self) -> None:
        self.fit = True
        if self.pixmap is not None:
            ratio = self.devicePixelRatioF()
            w, h = self.pixmap.width(), self.pixmap.height()
            self.zoom = min(self.width() * ratio / w, self.height() * ratio / h) * 0.97
            self.center = QPointF(w / 2, h / 2)
        self.zoomChanged.emit(self.zoom)
        self.update()

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        before = self._to_image(anchor)
        self.zoom, self.fit = zoom, False
        after = self._to_image(anchor)
        self.center += before - after  # keep the image point under the cursor in place
        self.zoomChanged.emit(self.zoom)
        self.update()

    def _scale(self) -> float:
        """Logical widget px per image px: zoom is in device pixels for a sharp 100 %."""
        return self.zoom / self.devicePixelRatioF()

    def _to_image(self, point: QPointF) -> QPointF:
        middle = QPointF(self.width() / 2, self.height() / 2)
        return self.center + (point - middle) / self._scale()

    def _image_rect(self) -> QRectF:
        scale = self._scale()
        w, h = self.pixmap.width() * scale, self.pixmap.height() * scale
        x = self.width() / 2 - self.center.x() * scale
        y = self.height() / 2 - self.center.y() * scale
        return QRectF(x, y, w, h)

    def resizeEvent(self, event) -> None:
        if self.fit:
            self.fit_to_window()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        if steps and self.pixmap is not None:
            self.set_zoom(self.zoom * 1.25**steps, event.position())

    def mousePressEvent(self, event) -> None:
        if self.pixmap is None:
            return
        pos = event.position()
        if self.compare and event.button() == Qt.MouseButton.LeftButton:
            self._drag = ("split", pos)
            self._move_split(pos)
        elif event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton,
                                Qt.MouseButton.MiddleButton):  # fmt: skip
            self._drag = ("pan", pos)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._drag is None:
            near = self.compare and abs(pos.x() - self.split * self.width()) < 12
            self.setCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.OpenHandCursor)
            return
        kind, last = self._drag
        if kind == "split":
            self._move_split(pos)
        else:
            self.center -= (pos - last) / self._scale()
            self.fit = False
            self._drag = (kind, pos)
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, event) -> None:
        if self.fit:
            self.set_zoom(1.0, event.position())
        else:
            self.fit_to_window()

    def _move_split(self, pos: QPointF) -> None:
        self.split = min(1.0, max(0.0, pos.x() / max(1, self.width())))
        self.update()

    # --- painting -------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(115))
        if self.pixmap is None:
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Drop a photo and a painting, then press Start")  # fmt: skip
            return
        # Zoomed in by hand: crisp pixels, to judge the brushwork. Fitted: smooth.
        smooth = self.fit or self.zoom < 1.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        target = self._image_rect()
        painter.drawPixmap(target, self.pixmap, QRectF(self.pixmap.rect()))
        viewing = self.state.viewing
        if viewing is not None and viewing < len(self.state.snapshots):
            step = self.state.snapshots[viewing].iteration
            label = f"Snapshot at step {step} · L: back to live"
            width = painter.fontMetrics().horizontalAdvance(label) + 16
            box = QRectF(8, self.height() - 30, width, 22)
            painter.fillRect(box, QColor(0, 0, 0, 160))
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        if self.compare and self.before is not None:
            x = self.split * self.width()
            clip = QPainterPath()
            clip.addRect(QRectF(0, 0, x, self.height()))
            painter.save()
            painter.setClipPath(clip)
            painter.drawPixmap(target, self.before, QRectF(self.before.rect()))
            painter.restore()
            painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(QRectF(x - 90, 8, 80, 20), Qt.AlignmentFlag.AlignRight, "Before")
            painter.drawText(QRectF(x + 10, 8, 80, 20), Qt.AlignmentFlag.AlignLeft, "After")
