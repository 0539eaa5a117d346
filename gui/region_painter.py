"""Painting regions (issue 15): one greyscale QImage mask per style row and one for "keep
the photo"; a soft round brush (size, hardness), an eraser, fill, invert, undo and redo of
whole strokes, masks from files, and an automatic start (brightness or colour clusters).

No widget here: gui/region_overlay.py shows the masks on the canvas and turns the mouse
into strokes. The engine gets plain float arrays (`regions()`), never a QImage.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QRadialGradient

from engine.regions import MAX_REGIONS, Region, RegionError, load_mask

MASK_SIDE = 512  # masks are drawn at most this big; the engine resizes them per scale
MAX_UNDO = 40
BRUSH_SIZES = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
# One colour per style row, then the keep-the-photo colour (the overlay's colours).
ROW_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4",
               "#f032e6", "#bfef45")  # fmt: skip
KEEP_COLOUR = "#ffffff"
TOOLS = ("brush", "eraser", "fill")


def layer_colour(layer: int, style_rows: int) -> QColor:
    return QColor(KEEP_COLOUR if layer >= style_rows else ROW_COLOURS[layer % len(ROW_COLOURS)])


class RegionPainter(QObject):
    """The masks and the tools. Layer i < style_rows paints style row i; the last layer
    keeps the photo. `changed` fires after each stroke, fill, undo...; `regions()` is
    then what a run gets."""

    changed = Signal()  # the masks changed
    sizeChanged = Signal(int)  # the brush size ([ and ] as well as the panel's box)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.masks: list[QImage] = []
        self.style_rows = 0
        self.layer = 0
        self.tool = "brush"
        self.size = 32  # brush diameter in mask pixels
        self.hardness = 0.5  # 0: all soft edge, 1: a hard disc
        # Every layer, before each edit: a stroke takes its pixels from the other layers too.
        self._undo: list[list[QImage]] = []
        self._redo: list[list[QImage]] = []
        self._last: QPointF | None = None

    # --- layout -----------------------------------------------------------------------

    def reset(self, width: int, height: int, style_rows: int) -> None:
        """Fresh, empty masks for a photo of this size and this many style rows."""
        scale = min(1.0, MASK_SIDE / max(width, height))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        self.style_rows = min(style_rows, MAX_REGIONS - 1)
        self.masks = [_blank(*size) for _ in range(self.style_rows + 1)]
        self.layer = min(self.layer, self.style_rows)
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    def set_style_rows(self, style_rows: int) -> None:
        """Style rows added or removed: keep the masks of rows still there and the keep mask."""
        if not self.masks:
            return
        keep, rows = self.masks[-1], self.masks[:-1]
        width, height = keep.width(), keep.height()
        count = min(style_rows, MAX_REGIONS - 1)
        rows = rows[:count] + [_blank(width, height) for _ in range(count - len(rows))]
        self.masks, self.style_rows = [*rows, keep], count
        self.layer = min(self.layer, count)
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    @property
    def keep_layer(self) -> int:
        return self.style_rows

    # --- brush ------------------------------------------------------------------------

    def set_size(self, size: int) -> None:
        size = int(min(BRUSH_SIZES[-1], max(BRUSH_SIZES[0], size)))
        if size != self.size:
            self.size = size
            self.sizeChanged.emit(size)

    def bigger(self) -> None:
        """`]`: the next brush size up, as in Krita and GIMP."""
        self.set_size(next((s for s in BRUSH_SIZES if s > self.size), BRUSH_SIZES[-1]))

    def smaller(self) -> None:
        """`[`: the next brush size down."""
        self.set_size(next((s for s in reversed(BRUSH_SIZES) if s < self.size), BRUSH_SIZES[0]))

    def press(self, point: QPointF) -> None:
        """Start a stroke at `point` (mask pixels); fill fills the layer at once."""
        if not self.masks:
            return
        self._remember()
        if self.tool == "fill":
            self._fill_unpainted()
            self._last = None
            self.changed.emit()
            return
        self._last = point
        self._dab(point)

    def move(self, point: QPointF) -> None:
        """Continue the stroke: dabs a quarter of the brush apart, so a fast drag is a line."""
        if self._last is None:
            return
        start, step = self._last, max(1.0, self.size / 4)
        distance = (point - start).manhattanLength()
        count = max(1, int(distance / step))
        for i in range(1, count + 1):
            self._dab(start + (point - start) * (i / count))
        self._last = point

    def release(self) -> None:
        if self._last is not None:
            self._last = None
            self.changed.emit()

    def _dab(self, centre: QPointF) -> None:
        """One round dab: full strength inside `hardness` of the radius, fading to 0."""
        radius = self.size / 2
        level = 0 if self.tool == "eraser" else 255
        gradient = QRadialGradient(centre, radius)
        gradient.setColorAt(0, QColor(level, level, level, 255))
        gradient.setColorAt(min(0.999, self.hardness), QColor(level, level, level, 255))
        gradient.setColorAt(1, QColor(level, level, level, 0))
        painter = QPainter(self.masks[self.layer])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawEllipse(centre, radius, radius)
        painter.end()
        # A painted pixel belongs to one layer: where this one gains, the others lose.
        if self.tool != "eraser":
            self._take_from_others(centre, radius)

    def _take_from_others(self, centre: QPointF, radius: float) -> None:
        mine = mask_array(self.masks[self.layer])
        x0, y0 = max(0, int(centre.x() - radius - 1)), max(0, int(centre.y() - radius - 1))
        x1, y1 = int(centre.x() + radius + 2), int(centre.y() + radius + 2)
        for number, other in enumerate(self.masks):
            if number != self.layer:
                pixels = _view(other)
                box = pixels[y0:y1, x0:x1]
                box[...] = np.minimum(box, 255 - np.round(mine[y0:y1, x0:x1] * 255)).astype(
                    np.uint8)  # fmt: skip

    # --- whole-layer edits -------------------------------------------------------------

    def _fill_unpainted(self) -> None:
        """Fill: this layer takes everything no other layer has painted."""
        others = sum((_view(m).astype(np.int32) for n, m in enumerate(self.masks)
                      if n != self.layer), np.zeros((1, 1), np.int32))  # fmt: skip
        mine = _view(self.masks[self.layer])
        mine[...] = np.maximum(mine, 255 - np.clip(others, 0, 255)).astype(np.uint8)

    def invert(self) -> None:
        if self.masks:
            self._remember()
            self.masks[self.layer].invertPixels()
            self.changed.emit()

    def clear(self) -> None:
        if self.masks:
            self._remember()
            self.masks[self.layer].fill(0)
            self.changed.emit()

    def undo(self) -> None:
        self._swap(self._undo, self._redo)

    def redo(self) -> None:
        self._swap(self._redo, self._undo)

    def _swap(self, source: list, target: list) -> None:
        if not source:
            return
        target.append(self._copies())
        self.masks = source.pop()
        self.changed.emit()

    def _copies(self) -> list[QImage]:
        # QImage(mask) shares the pixels until one is painted on (Qt's copy on write).
        return [QImage(mask) for mask in self.masks]

    def _remember(self) -> None:
        self._undo.append(self._copies())
        del self._undo[:-MAX_UNDO]
        self._redo.clear()

    def import_mask(self, path: str) -> str | None:
        """Load a mask file into the current layer (resized); the reason if it cannot."""
        if not self.masks:
            return "drop a photo first"
        try:
            mask = load_mask(path)
        except RegionError as error:
            return str(error)
        self._remember()
        self.masks[self.layer] = array_mask(mask, self.masks[0].width(), self.masks[0].height())
        self.changed.emit()
        return None

    def auto_split(self, photo: Image.Image, method: str = "colours") -> None:
        """An automatic start: each style row gets one brightness band ("brightness") or one
        k-means colour cluster ("colours") of the photo, with softened edges."""
        if not self.masks or not self.style_rows:
            return
        width, height = self.masks[0].width(), self.masks[0].height()
        pixels = np.asarray(photo.convert("RGB").resize((width, height)), np.float32) / 255
        count = max(1, self.style_rows)
        labels = (_brightness_bands(pixels, count) if method == "brightness"
                  else _colour_clusters(pixels, count))  # fmt: skip
        self._undo.clear()
        self._redo.clear()
        for layer in range(self.style_rows):
            hard = Image.fromarray(((labels == layer) * 255).astype(np.uint8))
            soft = np.asarray(hard.filter(ImageFilter.GaussianBlur(2)), np.float32) / 255
            self.masks[layer] = array_mask(soft, width, height)
        self.masks[self.keep_layer] = _blank(width, height)
        self.changed.emit()

    def load(self, regions) -> None:
        """Masks back from engine regions (a restored session): a region paints the layer
        of its first painting, a keep region the keep layer."""
        width, height = self.masks[0].width(), self.masks[0].height()
        for region in regions:
            layer = self.keep_layer if region.keep else region.styles[0]
            if layer <= self.keep_layer:
                self.masks[layer] = array_mask(region.mask, width, height)
        self.changed.emit()

    # --- what a run gets -----------------------------------------------------------------

    def regions(self) -> tuple[Region, ...]:
        """The painted layers as engine regions; nothing painted: none (every style
        everywhere, as without regions)."""
        found = []
        for layer, image in enumerate(self.masks):
            mask = mask_array(image)
            if mask.max() < 1 / 255:
                continue
            keep = layer == self.keep_layer
            found.append(Region(mask, keep=True) if keep else Region(mask, (layer,)))
        return tuple(found)


def _blank(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_Grayscale8)
    image.fill(0)
    return image


def _view(image: QImage) -> np.ndarray:
    """The mask's pixels as a writable (H, W) uint8 array over the QImage's own memory."""
    bits = image.bits()  # detaches a shared copy first, so writes touch this image only
    rows = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width()]


def mask_array(image: QImage) -> np.ndarray:
    """(H, W) float32 in [0, 1], a copy (the engine runs on another thread)."""
    if image.format() != QImage.Format.Format_Grayscale8:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    copy = image.copy()  # held while its pixels are read: the view does not keep it alive
    return _view(copy).astype(np.float32) / 255


def array_mask(mask: np.ndarray, width: int, height: int) -> QImage:
    """A float mask as a Grayscale8 QImage of this size."""
    image = Image.fromarray(np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8))
    pixels = np.ascontiguousarray(np.asarray(image.resize((width, height), Image.BILINEAR)))
    result = _blank(width, height)
    _view(result)[...] = pixels
    return result


def _brightness_bands(pixels: np.ndarray, count: int) -> np.ndarray:
    luminance = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    edges = np.quantile(luminance, np.linspace(0, 1, count + 1)[1:-1])
    return np.searchsorted(edges, luminance)


def _colour_clusters(pixels: np.ndarray, count: int, rounds: int = 12) -> np.ndarray:
    """k-means on the thumbnail's colours (deterministic start: brightness quantiles)."""
    flat = pixels.reshape(-1, 3)
    order = np.argsort(flat.sum(1))
    centres = flat[order[np.linspace(0, len(flat) - 1, count).astype(int)]].copy()
    for _ in range(rounds):
        labels = ((flat[:, None] - centres[None]) ** 2).sum(2).argmin(1)
        for k in range(count):
            if (labels == k).any():
                centres[k] = flat[labels == k].mean(0)
    return labels.reshape(pixels.shape[:2])
