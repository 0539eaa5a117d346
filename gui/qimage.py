"""Conversions between numpy/Pillow images and Qt images.

A QImage built on a numpy buffer does not own the memory, so every function here
returns a `.copy()` that owns its pixels and may safely cross threads.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap


def array_to_qimage(array: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB array -> a QImage that owns its pixels."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    height, width, _ = array.shape
    image = QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer before it goes anywhere


def pil_to_qimage(image: Image.Image) -> QImage:
    return array_to_qimage(np.asarray(image.convert("RGB")))


def qimage_to_pil(image: QImage) -> Image.Image:
    """Any QImage (e.g. from the clipboard) -> 8-bit RGB Pillow image."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = rgb.width(), rgb.height()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=rgb.sizeInBytes())
    rows = buffer.reshape(height, rgb.bytesPerLine())[:, : 3 * width]
    return Image.fromarray(rows.reshape(height, width, 3).copy(), "RGB")


def thumbnail_pixmap(image: QImage | Image.Image, box: QSize, ratio: float) -> QPixmap:
    """A sharp thumbnail that fits `box` (logical px) on a screen with device pixel `ratio`."""
    if isinstance(image, Image.Image):
        image = pil_to_qimage(image)
    scaled = image.scaled(
        box * ratio,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    pixmap = QPixmap.fromImage(scaled)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap
