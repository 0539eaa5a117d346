"""Figures 3 and 5 on the real GUI, offscreen: Start -> first picture on the canvas, and
how late a 5 ms timer fires on the Qt event loop while a run goes on (its lateness is the
longest the loop was stalled). Prints one JSON line. Main virtualenv, QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402, F401  (before Qt)
from PIL import Image  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.run import Network  # noqa: E402
from engine.vgg import read_state_dict  # noqa: E402
from gui.app import create_window, warm_up_torch  # noqa: E402
from gui.preferences import Preferences  # noqa: E402

TICK_MS = 5


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("--weights", required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--style-weight", type=float, help="default: the engine's")
    p.add_argument("--arch", default="vgg19", help="vgg16 for the trained file")
    args = p.parse_args()

    warm_up_torch()  # as run_app does before the window shows
    app = QApplication.instance() or QApplication([])
    network = Network(read_state_dict(args.weights, args.arch), args.arch, preprocessing="caffe")
    window = create_window(lambda: network, Preferences(Path(tempfile.mkdtemp())))
    window.resize(1200, 800)
    window.show()
    state = window.state
    state.set_content_image(Image.open(args.content).convert("RGB"), "content")
    state.add_style_image(Image.open(args.style).convert("RGB"), "style")
    weight = {"style_weight": args.style_weight} if args.style_weight is not None else {}
    state.set_settings(
        model=args.arch,
        size=args.size,
        steps=args.steps,
        **weight,
        tv_weight=0.0,
        init="content",
        optimizer="lbfgs",
        scales=(),
    )
    # Load the model before pressing Start, as the target says ("model already loaded").
    state.worker._get_network(state.model)

    clock, lateness, marks = QElapsedTimer(), [], {}
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        lateness.append(max(0.0, (now - last[0]) / 1e6 - TICK_MS))
        last[0] = now

    def on_display(_image) -> None:
        marks.setdefault("first_picture", time.perf_counter())
        if state.report is not None:
            marks.setdefault("first_stylised", time.perf_counter())

    def on_status(status: str) -> None:  # the state's own signal, on the GUI thread
        if status != "running" and "first_picture" in marks and "ended" not in marks:
            marks["ended"] = time.perf_counter()
            app.quit()

    state.message.connect(lambda level, text: print("MESSAGE", level, text, file=sys.stderr))
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    state.displayChanged.connect(on_display)
    state.statusChanged.connect(on_status)
    timer.start()
    started = time.perf_counter()
    QTimer.singleShot(0, state.start)
    app.exec()
    timer.stop()
    window.shutdown()
    late = np.array(lateness[5:] or [0.0])  # the first ticks include Start's own set-up
    print(
        json.dumps(
            {
                "start_to_first_picture_s": marks.get("first_picture", float("nan")) - started,
                "start_to_first_stylised_s": marks.get("first_stylised", float("nan")) - started,
                "run_s": marks.get("ended", float("nan")) - started,
                "stall_ms_p50": float(np.percentile(late, 50)),
                "stall_ms_p99": float(np.percentile(late, 99)),
                "stall_ms_max": float(late.max()),
                "ticks": len(late),
                "torch_threads": torch.get_num_threads(),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
