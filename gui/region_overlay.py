"""Regions mode on the canvas (issue 15): the masks as a translucent overlay, the mouse
painting them (gui/region_painter.py), and a tool row under the canvas. `attach_regions`
wires it all into the window in one call, so the window itself changes by a few lines.

Each finished stroke goes to the state as regions; a running or paused run picks them up
between steps (StyleTransfer.update_regions), reusing every style target it has.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,  # fmt: skip
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.region_painter import BRUSH_SIZES, TOOLS, RegionPainter, layer_colour, mask_array

OVERLAY_OPACITY = 0.5


class RegionOverlay(QWidget):
    """A transparent child of the canvas, always its size. Shows the masks; in Regions
    mode it takes the mouse: left button paints with the current tool, `[` `]` resize
    the brush, and a circle shows the brush under the cursor."""

    def __init__(self, canvas: QWidget, painter: RegionPainter):
        super().__init__(canvas)
        self.canvas, self.painter = canvas, painter
        self.active = False
        self.shown = True
        self._image: QPixmap | None = None
        self._cursor: QPointF | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        canvas.installEventFilter(self)
        painter.changed.connect(self.refresh)
        self.setGeometry(canvas.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.canvas.rect())
        return False

    def set_active(self, on: bool) -> None:
        self.active = on
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, not on)
        self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        if on:
            self.setFocus()
        self.update()

    def set_shown(self, on: bool) -> None:
        self.shown = on
        self.update()

    @Slot()
    def refresh(self) -> None:
        """Rebuild the coloured overlay from the masks (after each stroke, not each dab)."""
        masks = self.painter.masks
        if not masks:
            self._image = None
        else:
            self._image = QPixmap.fromImage(_coloured(masks, self.painter.style_rows))
        self.update()

    # --- mouse and keys -----------------------------------------------------------------

    def _to_mask(self, pos: QPointF) -> QPointF | None:
        pixmap, masks = getattr(self.canvas, "pixmap", None), self.painter.masks
        if pixmap is None or not masks:
            return None
        point = self.canvas._to_image(pos)  # canvas image pixels
        scale = masks[0].width() / pixmap.width()
        return QPointF(point.x() * scale, point.y() * scale)

    def mousePressEvent(self, event) -> None:
        point = self._to_mask(event.position())
        if event.button() == Qt.MouseButton.LeftButton and point is not None:
            self.painter.press(point)
            self._paint_live()

    def mouseMoveEvent(self, event) -> None:
        self._cursor = event.position()
        point = self._to_mask(event.position())
        if event.buttons() & Qt.MouseButton.LeftButton and point is not None:
            self.painter.move(point)
            self._paint_live()
        self.update()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.painter.release()

    def leaveEvent(self, event) -> None:
        self.hide_outline()
        super().leaveEvent(event)

    def hide_outline(self) -> None:
        """No brush outline until the pointer moves over the canvas again."""
        self._cursor = None
        self.update()

    def wheelEvent(self, event) -> None:
        self.canvas.wheelEvent(event)  # zoom still works in Regions mode

    def event(self, event) -> bool:
        # Edit > Undo (settings) owns Ctrl+Z in the window; while the brush has the focus,
        # Ctrl+Z and Ctrl+Shift+Z undo and redo strokes instead.
        if event.type() == QEvent.Type.ShortcutOverride and self.active and (
            event.matches(QKeySequence.StandardKey.Undo)
            or event.matches(QKeySequence.StandardKey.Redo)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.text() == "]":
            self.painter.bigger()
        elif event.text() == "[":
            self.painter.smaller()
        elif event.matches(QKeySequence.StandardKey.Undo):
            self.painter.undo()
        elif event.matches(QKeySequence.StandardKey.Redo):
            self.painter.redo()
        else:
            return super().keyPressEvent(event)
        self.update()

    def _paint_live(self) -> None:
        """While a stroke goes on, show it at once (the overlay is rebuilt from the masks)."""
        self.refresh()

    # --- painting -------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        pixmap = getattr(self.canvas, "pixmap", None)
        if pixmap is None or self._image is None:
            return
        painter = QPainter(self)
        target = self.canvas._image_rect()
        if self.shown:
            painter.setOpacity(OVERLAY_OPACITY)
            painter.drawPixmap(target, self._image, QRectF(self._image.rect()))
            painter.setOpacity(1.0)
        if self.active and self._cursor is not None and self.painter.masks:
            radius = self.painter.size / 2 * target.width() / self.painter.masks[0].width()
            painter.setPen(QPen(QColor(255, 255, 255, 220), 1.5))
            painter.drawEllipse(self._cursor, radius, radius)
            painter.setPen(QPen(QColor(0, 0, 0, 160), 1))
            painter.drawEllipse(self._cursor, radius + 1.5, radius + 1.5)


def _coloured(masks: list[QImage], style_rows: int) -> QImage:
    """Every layer in its colour, alpha its mask, on one ARGB image."""
    arrays = np.stack([mask_array(mask) for mask in masks])  # (L, H, W)
    colours = np.array([layer_colour(i, style_rows).getRgb()[:3] for i in range(len(masks))],
                       np.float32)  # fmt: skip
    total = arrays.sum(0)
    rgb = np.einsum("lhw,lc->hwc", arrays, colours) / np.maximum(total, 1e-6)[..., None]
    alpha = np.clip(total, 0, 1) * 255
    bgra = np.dstack([rgb[..., 2], rgb[..., 1], rgb[..., 0], alpha]).round().astype(np.uint8)
    height, width = arrays.shape[1:]
    image = QImage(np.ascontiguousarray(bgra).data, width, height, 4 * width,
                   QImage.Format.Format_ARGB32)  # fmt: skip
    return image.copy()  # the array is freed when this returns: the image must own its pixels


class RegionPanel(QWidget):
    """The tools under the canvas in Regions mode: which layer (a style row or "keep the
    photo"), brush, eraser, fill, size, hardness, invert, undo, redo, show, import, auto."""

    message = Signal(str, str)

    def __init__(self, painter: RegionPainter, overlay: RegionOverlay, parent=None):
        super().__init__(parent)
        self.painter, self.overlay = painter, overlay
        self.photo = None  # the photo, for the automatic start
        # Two rows, so the panel is never wider than the canvas above it at 1280 px.
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        row, second = QHBoxLayout(), QHBoxLayout()
        rows.addLayout(row)
        rows.addLayout(second)
        self.layer = QComboBox(toolTip="what this layer paints: a painting, or the photo kept")
        self.layer.currentIndexChanged.connect(self._on_layer)
        row.addWidget(self.layer)
        self.tools = {}
        for tool in TOOLS:
            button = QToolButton(text=tool.capitalize(), checkable=True, autoExclusive=True)
            button.setChecked(tool == painter.tool)
            button.toggled.connect(self._on_tool)
            row.addWidget(button)
            self.tools[tool] = button
        row.addWidget(QLabel("Size"))
        self.size = QSpinBox(minimum=BRUSH_SIZES[0], maximum=BRUSH_SIZES[-1], value=painter.size,
                             toolTip="brush diameter; [ and ] change it")  # fmt: skip
        self.size.valueChanged.connect(painter.set_size)
        row.addWidget(self.size)
        row.addWidget(QLabel("Hardness"))
        self.hardness = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100,
                                value=round(painter.hardness * 100))  # fmt: skip
        self.hardness.setMinimumWidth(70)
        self.hardness.setMaximumWidth(110)
        self.hardness.valueChanged.connect(self._on_hardness)
        row.addWidget(self.hardness)
        for text, slot, tip in (("Invert", painter.invert, "swap painted and unpainted"),
                                ("Clear", painter.clear, "empty this layer"),
                                ("Undo", painter.undo, "undo the last stroke (Ctrl+Z)"),
                                ("Redo", painter.redo, "redo (Ctrl+Shift+Z)"),
                                ("Import…", self._import, "a mask from an image file"),
                                ):  # fmt: skip
            button = QToolButton(text=text, toolTip=tip)
            button.clicked.connect(slot)
            second.addWidget(button)
        self.auto = QToolButton(text="Auto", toolTip="a start: one part of the photo per "
                                "painting, by colour or by brightness")  # fmt: skip
        self.auto.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.auto)
        menu.addAction("By colour (k-means)", self._auto_colours)
        menu.addAction("By brightness", self._auto_brightness)
        self.auto.setMenu(menu)
        second.addWidget(self.auto)
        self.show_masks = QCheckBox("Show", checked=True, toolTip="show or hide the masks")
        self.show_masks.toggled.connect(overlay.set_shown)
        second.addWidget(self.show_masks)
        row.addStretch(1)
        second.addStretch(1)
        painter.sizeChanged.connect(self._sync)

    def set_rows(self, labels: list[str]) -> None:
        self.layer.blockSignals(True)
        self.layer.clear()
        for index, label in enumerate([*labels[: self.painter.style_rows], "Keep the photo"]):
            swatch = QPixmap(12, 12)
            swatch.fill(layer_colour(index, self.painter.style_rows))
            self.layer.addItem(swatch, label)
        self.layer.setCurrentIndex(self.painter.layer)
        self.layer.blockSignals(False)

    @Slot(int)
    def _sync(self, size: int) -> None:
        self.size.blockSignals(True)
        self.size.setValue(size)
        self.size.blockSignals(False)

    @Slot(int)
    def _on_layer(self, index: int) -> None:
        if index >= 0:
            self.painter.layer = index

    @Slot(bool)
    def _on_tool(self, on: bool) -> None:
        if on:
            self.painter.tool = next(t for t, b in self.tools.items() if b.isChecked())

    @Slot(int)
    def _on_hardness(self, value: int) -> None:
        self.painter.hardness = value / 100

    @Slot()
    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a mask", "",
                                              "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp)")
        if path:
            problem = self.painter.import_mask(path)
            if problem:
                self.message.emit("error", problem)

    @Slot()
    def _auto_colours(self) -> None:
        self.auto_start("colours")

    @Slot()
    def _auto_brightness(self) -> None:
        self.auto_start("brightness")

    def auto_start(self, method: str) -> None:
        if self.photo is None or not self.painter.style_rows:
            self.message.emit("info", "Drop a photo and a painting first.")
            return
        self.painter.auto_split(self.photo, method)

    def keyPressEvent(self, event) -> None:
        self.overlay.keyPressEvent(event)


class RegionsMode(QObject):
    """Regions mode in a window: a toggle in the canvas's bar, the panel under the canvas,
    masks that follow the photo and the style rows, and regions sent to the state."""

    def __init__(self, window, bar: QHBoxLayout, layout):
        super().__init__(window)
        self.state = window.state
        self.painter = RegionPainter(self)
        self.overlay = RegionOverlay(window.canvas, self.painter)
        self.panel = RegionPanel(self.painter, self.overlay, window)
        self.panel.setVisible(False)
        self.toggle = QToolButton(text="Regions", checkable=True,
                                  toolTip="paint where each painting's style goes")  # fmt: skip
        bar.insertWidget(bar.count() - 2, self.toggle)
        layout.addWidget(self.panel)
        self.toggle.toggled.connect(self.set_active)
        self.state.contentChanged.connect(self._on_content)
        self.state.stylesChanged.connect(self._on_styles)
        self.painter.changed.connect(self._send)
        self._sent: tuple = ()  # what the painter last gave the state
        self.panel.message.connect(self.state.message)

    @Slot(bool)
    def set_active(self, on: bool) -> None:
        self.panel.setVisible(on)
        self.overlay.set_active(on)

    @Slot()
    def _on_content(self) -> None:
        content = self.state.content
        self.panel.photo = content.image if content else None
        # Regions the painter did not make came with a restored session: paint them back.
        # Otherwise a new photo starts with empty masks.
        restored = self.state.regions if self.state.regions is not self._sent else ()
        self.overlay.hide_outline()  # it was over the old photo
        if content is not None:
            self.painter.reset(*content.image.size, len(self.state.styles))
            if restored:
                self.painter.load(restored)
            self.panel.set_rows([s.label for s in self.state.styles])

    @Slot()
    def _on_styles(self) -> None:
        if self.painter.masks and self.painter.style_rows != len(self.state.styles):
            self.painter.set_style_rows(len(self.state.styles))
        elif not self.painter.masks and self.state.content is not None:
            self._on_content()
        self.panel.set_rows([s.label for s in self.state.styles])

    @Slot()
    def _send(self) -> None:
        self._sent = self.painter.regions()
        self.state.set_regions(self._sent)
