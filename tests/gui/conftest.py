"""GUI fixtures: a window on a random VGG, small test images, and a guard that fails
any test leaving an engine thread running."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from gui.app import create_window
from gui.worker import live_threads
from tests.conftest import RANDOM_NET_STYLE_WEIGHT

COPY, NO_KEYS = Qt.DropAction.CopyAction, Qt.KeyboardModifier.NoModifier


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """A closed window deletes itself (WA_DeleteOnClose). pytest-qt then closes every
    widget `qtbot.addWidget` registered: one the test closed, already deleted, would raise
    there. So the deletions due are carried out first and the deleted windows left out."""
    app = QApplication.instance()
    if app is not None:
        app.processEvents()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    registered = getattr(item, "qt_widgets", None)  # pytest-qt's: (weakref, before_close)
    if registered:
        item.qt_widgets = [
            entry for entry in registered if entry[0]() is None or isValid(entry[0]())
        ]
    return (yield)


@pytest.fixture(autouse=True)
def no_thread_left(qapp):
    yield
    alive = live_threads()
    for thread in alive:  # clean up so one leak does not break every later test
        thread.quit()
        thread.wait(10_000)
    if alive:
        pytest.fail(f"{len(alive)} engine thread(s) still running after the test")


@pytest.fixture
def window(qtbot, random_network):
    window = create_window(lambda: random_network)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    # Small and quick: 64 px, a style weight that suits a random network.
    window.state.set_settings(size=64, steps=400, style_weight=RANDOM_NET_STYLE_WEIGHT,
                              snapshot_every=5, scales=())  # fmt: skip
    yield window
    if isValid(window):  # closed by the test, Qt has deleted it
        window.close()


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict[str, str]:
    """A smooth 'photo' and a stripy 'painting', as files."""
    folder = tmp_path_factory.mktemp("images")
    y, x = np.mgrid[0:72, 0:96]
    photo = np.stack([x * 2.6, y * 3.4, 255 - x * 2.6], axis=-1)
    photo[20:50, 30:60] = (240, 220, 40)
    rng = np.random.default_rng(0)
    stripes = (np.sin(x / 3.0 + y / 5.0)[..., None] * 110 + 128) * rng.uniform(0.6, 1.0, (1, 1, 3))
    paths = {"photo": folder / "photo.png", "painting": folder / "painting.jpg"}
    Image.fromarray(photo.clip(0, 255).astype(np.uint8)).save(paths["photo"])
    Image.fromarray(stripes.clip(0, 255).astype(np.uint8)).save(paths["painting"])
    bad = folder / "broken.jpg"
    bad.write_bytes(b"this is not a JPEG at all" * 10)
    paths["broken"] = bad
    return {name: str(path) for name, path in paths.items()}


def drop_files(widget: QWidget, paths: list[str]) -> bool:
    """Drag files over `widget` and drop them, with real drag-enter and drop events."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path) for path in paths])
    centre = widget.rect().center()
    with warnings.catch_warnings():  # PySide6 6.12 marks this form deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(centre, COPY, mime, Qt.MouseButton.LeftButton, NO_KEYS)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(QPoint(centre)), COPY, mime, Qt.MouseButton.LeftButton, NO_KEYS)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()
