"""Render resources/icon.svg to the icon files the installers use.

    python installer/make_icons.py

Writes resources/icons/impasto-<N>.png (N = 16 ... 512), resources/icon.png (256 px, the
window icon), resources/icon.ico (Windows) and resources/icon.icns (macOS). The outputs are
committed, so only run this after editing the SVG. Needs PySide6 (QtSvg) and Pillow.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SVG = RESOURCES / "icon.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512)  # Pillow builds the @2x entries from these


def render(size: int) -> Image.Image:
    """The SVG drawn by Qt at `size` x `size` pixels, as a Pillow RGBA image."""
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG}: Qt cannot read this SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    # Each size is rendered from the vector, not scaled down from 512 px: sharper at 16-32 px.
    images = {size: render(size) for size in PNG_SIZES}
    folder = RESOURCES / "icons"
    folder.mkdir(exist_ok=True)
    for size, image in images.items():
        image.save(folder / f"impasto-{size}.png", optimize=True)
    images[256].save(RESOURCES / "icon.png", optimize=True)
    largest = images[ICO_SIZES[-1]]
    largest.save(
        RESOURCES / "icon.ico",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[images[s] for s in ICO_SIZES[:-1]],
    )
    images[512].save(RESOURCES / "icon.icns", append_images=[images[s] for s in ICNS_SIZES[:-1]])
    print(f"wrote {len(images)} PNGs, icon.png, icon.ico and icon.icns in {RESOURCES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
