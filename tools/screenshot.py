"""Take the README screenshot: the real window, a short run on the trained VGG16 that the
tests use (tests/trained_vgg.py), then a grab.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python tools/screenshot.py

The window's own loss weights are used (they mean the same on every model). Writes
resources/screenshot.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch  # noqa: F401  (before Qt)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.model_choice import import_as  # noqa: E402
from gui.app import create_window  # noqa: E402
from tests.trained_vgg import trained_vgg16_path  # noqa: E402

IMAGES = Path("/work/shared/images")


def dark_palette() -> QPalette:
    """Roughly a dark desktop theme, to check that nothing assumes a light one."""
    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in ((role.Window, "#2b2b2b"), (role.WindowText, "#e6e6e6"),
                         (role.Base, "#1e1e1e"), (role.AlternateBase, "#353535"),
                         (role.Text, "#e6e6e6"), (role.Button, "#353535"),
                         (role.ButtonText, "#e6e6e6"), (role.Highlight, "#3d7bd9"),
                         (role.HighlightedText, "#ffffff"), (role.Mid, "#5a5a5a"),
                         (role.PlaceholderText, "#9a9a9a")):  # fmt: skip
        palette.setColor(name, QColor(colour))
    for name in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, name, QColor("#777777"))
    return palette


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photo", default=str(IMAGES / "tubingen.jpg"))
    parser.add_argument("--style", nargs="+", default=[str(IMAGES / "starry_night.jpg"),
                                                      str(IMAGES / "the_scream.jpg")])  # fmt: skip
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=40, help="grab after this many steps")
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    parser.add_argument("--preset", help="a preset name to apply first, e.g. Smooth")
    parser.add_argument("--timeout", type=float, default=900, help="grab anyway after this")
    parser.add_argument("--dark", action="store_true", help="a dark palette, to check theming")
    parser.add_argument("--actual", action="store_true", help="show the canvas at 100%%")
    parser.add_argument("--window", default="1500x920", help="window size, e.g. 1280x720")
    parser.add_argument("--open", action="store_true", help="open the Quality section too")
    parser.add_argument("--finish", action="store_true", help="let the run finish, then grab")
    parser.add_argument("--out", default=str(ROOT / "resources" / "screenshot.png"))
    args = parser.parse_args()
    os.environ.setdefault("IMPASTO_CONFIG_DIR", tempfile.mkdtemp(prefix="impasto-shot-"))
    # A private model store holding the trained VGG16 as a user would have it after
    # File ▸ Model weights… ▸ Import, so the window's Model box shows it.
    os.environ.setdefault("IMPASTO_MODELS_DIR", tempfile.mkdtemp(prefix="impasto-models-"))
    import_as(trained_vgg16_path(), "vgg16-caffe")

    app = QApplication(sys.argv)
    app.setApplicationName("Impasto")
    if args.dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    window = create_window()
    window.resize(*(int(n) for n in args.window.split("x")))
    if args.open:
        window.controls.quality_button.setChecked(True)
    window.show()
    state = window.state
    state.load_content(args.photo)
    for path in args.style:
        state.add_style(path)
    if len(state.styles) > 1:
        state.set_style_weight(1, 0.4)
    if args.preset:
        state.apply_preset(args.preset)
    else:
        state.set_settings(optimizer=args.optimizer, scales=())
    state.set_settings(size=args.size, steps=args.steps if args.finish else max(args.steps, 150),
                       snapshot_every=max(1, args.steps // 8))  # fmt: skip
    state.start()
    started = time.monotonic()

    def check() -> None:
        report = state.report
        if report is not None and report.iteration >= args.steps and state.status == "running":
            state.toggle_pause()
        finished = args.finish and state.status == "idle"
        if finished or state.status == "paused" or time.monotonic() - started > args.timeout:
            QTimer.singleShot(400, grab)
            return
        QTimer.singleShot(100, check)

    def grab() -> None:
        window.compare_button.setChecked(True)  # show the before/after split as well
        window.canvas.split = 0.3
        if args.actual:
            window.canvas.actual_size()
        window.grab().save(args.out)
        print(f"saved {args.out} after {state.report.iteration if state.report else 0} steps")
        window.close()
        app.quit()

    QTimer.singleShot(100, check)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
