"""Start the desktop app: `run_app(sys.argv)`; `create_window()` for tests and tools."""

from __future__ import annotations

import gc
from pathlib import Path

import torch  # before Qt: initialisation order problems are reported otherwise
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.preferences import Preferences
from gui.state import AppState
from gui.worker import FixedNetwork, NetworkProvider

APP_NAME = "Impasto"
DESKTOP_FILE = "impasto"  # impasto.desktop: Wayland and taskbars find the icon through it
# Beside gui/ in a checkout and in the installer's bundle (impasto.spec puts it there).
ICON_PATH = Path(__file__).resolve().parents[1] / "resources" / "icon.png"


def app_icon() -> QIcon:
    return QIcon(str(ICON_PATH)) if ICON_PATH.exists() else QIcon()


def create_window(
    network_provider: NetworkProvider | None = None,
    preferences: Preferences | None = None,
) -> MainWindow:
    """A main window with its state and engine thread (a QApplication must exist).

    Without a provider the window runs the installed model chosen in it; a provider gives
    one fixed network whatever is chosen (tests and tools)."""
    if network_provider is None:
        from gui.weights_dialog import default_network_provider

        load_network = default_network_provider
    else:
        load_network = FixedNetwork(network_provider)
    state = AppState(load_network, preferences or Preferences())
    window = MainWindow(state)
    window.setWindowIcon(app_icon())
    return window


def warm_up_torch() -> None:
    """Creating torch's first optimizer imports torch._dynamo: about 2 s of Python holding
    the GIL. Done here, before the window shows, rather than freezing the window for up to
    0.3 s at a time during the first Start (measured with bench/gui_probe.py)."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def run_app(argv: list[str], network_provider: NetworkProvider | None = None) -> int:
    warm_up_torch()
    # What start-up loaded (torch's few hundred thousand objects) lives as long as the app:
    # kept out of the collector's scans, a full collection takes ~2 ms, not ~150 ms (a
    # visible stall; measured on the 2-core CI machine with a window open).
    gc.freeze()
    app = QApplication.instance()
    if app is None:
        # Exact fractional scaling (125 %, 150 %): the canvas maps pixels 1:1 at 100 %.
        QApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(app_icon())
    window = create_window(network_provider)
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    if network_provider is None:
        offer_weights_if_missing(window)
    return app.exec()


def offer_weights_if_missing(window: MainWindow) -> bool:
    """First run: open the (non-modal) weights dialog at once rather than at the first
    Start, so the artist can download while choosing pictures. Any installed model will
    do (the window runs the one chosen in it). Reads only manifests."""
    from engine.catalogue import default_model_name, how_to_install

    if window.state.model is not None:
        return False
    window.show_weights_dialog(how_to_install(default_model_name()))
    return True
