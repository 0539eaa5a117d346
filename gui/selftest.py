"""`impasto --selftest`: check that an install works, without a screen or real weights.

It imports torch and Qt, builds the network from the installed (or bundled) default model,
or from generated weights when there is none, runs a few steps at 64 px on generated
pictures, opens the main window and saves a grab of it as a PNG. It prints one line per
check and then `SELFTEST OK` (exit status 0), or `SELFTEST FAILED: <check>: <reason>`
(exit status 1). Built bundles are checked with it (installer/check_bundle.sh), so it must
work with QT_QPA_PLATFORM=offscreen and must not touch the user's preferences.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from pathlib import Path

SIZE = 64
STEPS = 3


def run_selftest() -> int:
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="impasto-selftest-"))
    checks = (
        ("imports", _check_imports),
        ("weights", _load_network),
        ("run", _run_steps),
        ("window", _grab_window),
    )
    result = None
    for name, check in checks:
        try:
            result = check(result, folder)
        except Exception as error:  # the point is to report any failure as one line
            traceback.print_exc(file=sys.stderr)
            print(f"SELFTEST FAILED: {name}: {error or type(error).__name__}", flush=True)
            return 1
    print(f"SELFTEST OK ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


def _report(name: str, text: str) -> None:
    print(f"{name + ':':<9}{text}", flush=True)


def _check_imports(_, folder: Path) -> None:
    # torch first: the other order has caused initialisation failures (main.py does the same).
    import torch  # noqa: I001
    import PySide6
    from PySide6 import QtCore, QtGui, QtWidgets  # noqa: F401

    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    _report("python", f"{sys.version.split()[0]}{frozen}, {sys.executable}")
    cuda = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU only"
    _report("torch", f"{torch.__version__} ({cuda}, CUDA available: {torch.cuda.is_available()})")
    _report("qt", f"PySide6 {PySide6.__version__}, Qt {QtCore.qVersion()}")
    _report("output", str(folder))


def _load_network(_, folder: Path):
    """The default model if one is installed or bundled, else generated weights of its shape."""
    from engine.catalogue import default_model_name, model_spec
    from engine.paths import bundled_models_folder
    from engine.run import Network
    from engine.vgg import random_state_dict
    from engine.weights_store import find_installed, load_installed

    name = default_model_name()
    installed = find_installed(name)
    if installed is None:
        _report("weights", f"{name} not installed; using generated weights of its shape")
        spec = model_spec(name)
        return Network(random_state_dict(spec.arch), spec.arch, spec.preprocessing)
    bundled = installed.path.parent.resolve() == bundled_models_folder().resolve()
    where = "bundled" if bundled else "installed"
    state_dict, spec = load_installed(name)  # checks the hash: a damaged file fails
    _report("weights", f"{name} {where}, {installed.path} (hash checked)")
    return Network(state_dict, spec.arch, spec.preprocessing)


def _run_steps(network, folder: Path):
    import numpy as np
    from PIL import Image

    from engine.run import StyleTransfer
    from engine.settings import RunSettings

    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, SIZE, dtype=np.float32)
    content = np.stack([ramp[None, :].repeat(SIZE, 0), ramp[:, None].repeat(SIZE, 1),
                        np.full((SIZE, SIZE), 128.0)], axis=-1)  # fmt: skip
    style = rng.integers(0, 256, (SIZE, SIZE, 3))
    settings = RunSettings(model=network.arch, size=SIZE, steps=STEPS, device="cpu")
    started = time.perf_counter()
    run = StyleTransfer(
        Image.fromarray(content.astype(np.uint8)),
        [Image.fromarray(style.astype(np.uint8))],
        settings,
        network,
    )
    try:
        while not run.done:
            report = run.step()
        result = run.result()
    finally:
        run.close()
    if result.size != (SIZE, SIZE):
        raise RuntimeError(f"the result is {result.size[0]}x{result.size[1]}, not {SIZE} px")
    result.save(folder / "result.png")
    total = report.losses.get("total", float("nan"))
    _report(
        "run",
        f"{report.iteration} steps at {SIZE} px on {run.device} in "
        f"{time.perf_counter() - started:.1f} s, loss {total:.4g}",
    )
    return network


def _grab_window(network, folder: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from gui.app import APP_NAME, create_window
    from gui.preferences import Preferences

    def provider():
        return network

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    # Preferences in the temporary folder: a self-test must not change the user's.
    window = create_window(provider, Preferences(folder))
    try:
        window.resize(1200, 760)
        window.show()
        app.processEvents()
        path = folder / "window.png"
        if not window.grab().save(str(path)):
            raise RuntimeError(f"could not save {path}")
    finally:
        window.close()  # closeEvent -> shutdown: stops the engine thread
        window.deleteLater()
        app.processEvents()
    _report("window", str(path))
