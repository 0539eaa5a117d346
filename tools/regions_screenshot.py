"""Screenshots of Regions mode for the README: the real window, masks painted with the
brush (through the same painter the mouse drives), a short run on the trained VGG16 the
tests use, then two grabs: the masks shown, and hidden to see the result.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tools/regions_screenshot.py

Writes resources/regions-window.png, resources/regions-result.jpg and the three masks to
resources/regions/ (the README's command-line example uses them).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch  # noqa: F401  (before Qt)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPointF, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.model_choice import import_as  # noqa: E402
from engine.region_files import mask_image  # noqa: E402
from gui.app import create_window  # noqa: E402
from gui.region_painter import mask_array  # noqa: E402
from tests.trained_vgg import trained_vgg16_path  # noqa: E402

IMAGES = Path("/work/shared/images")
STEPS, SIZE = 60, 256
# (layer, brush size, hardness, stroke as fractions of the photo): sky, river, houses.
STROKES = (
    (0, 120, 0.3, [(x / 10, y) for y in (0.08, 0.22, 0.33) for x in range(0, 11)]),
    (1, 110, 0.3, [(x / 10, y) for y in (0.86, 0.97) for x in range(0, 11)]),
    (2, 90, 0.3, [(x / 10, 0.55) for x in range(0, 11)]),
)


def paint(painter) -> None:
    width, height = painter.masks[0].width(), painter.masks[0].height()
    for layer, size, hardness, points in STROKES:
        painter.layer, painter.hardness = layer, hardness
        painter.set_size(size)
        scaled = [QPointF(x * width, y * height) for x, y in points]
        painter.press(scaled[0])
        for point in scaled[1:]:
            painter.move(point)
        painter.release()


def main() -> int:
    os.environ.setdefault("IMPASTO_CONFIG_DIR", tempfile.mkdtemp(prefix="impasto-shot-"))
    os.environ.setdefault("IMPASTO_MODELS_DIR", tempfile.mkdtemp(prefix="impasto-models-"))
    os.environ.setdefault("IMPASTO_DATA_DIR", tempfile.mkdtemp(prefix="impasto-data-"))
    import_as(trained_vgg16_path(), "vgg16-caffe")
    app = QApplication(sys.argv)
    app.setApplicationName("Impasto")
    window = create_window()
    window.resize(1500, 920)
    window.show()
    state = window.state
    state.load_content(str(IMAGES / "tubingen.jpg"))
    state.add_style(str(IMAGES / "starry_night.jpg"))
    state.add_style(str(IMAGES / "the_scream.jpg"))
    state.set_settings(size=SIZE, steps=150, scales=(), snapshot_every=10)
    mode = window.regions
    mode.toggle.setChecked(True)
    paint(mode.painter)
    for name, mask in zip(("sky", "river", "houses"), mode.painter.masks, strict=True):
        mask_image(mask_array(mask)).save(ROOT / "resources" / "regions" / f"{name}.png")
    state.start()
    started = time.monotonic()

    def check() -> None:
        report = state.report
        if report is not None and report.iteration >= STEPS and state.status == "running":
            state.toggle_pause()
        if state.status == "paused" or time.monotonic() - started > 900:
            QTimer.singleShot(400, grab)
            return
        QTimer.singleShot(100, check)

    def grab() -> None:
        window.grab().save(str(ROOT / "resources" / "regions-window.png"))
        mode.panel.show_masks.setChecked(False)
        app.processEvents()
        window.canvas.grab().save(str(ROOT / "resources" / "regions-result.jpg"))
        steps = state.report.iteration if state.report else 0
        print(f"saved after {steps} steps, {time.monotonic() - started:.0f} s")
        window.close()
        app.quit()

    QTimer.singleShot(100, check)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
