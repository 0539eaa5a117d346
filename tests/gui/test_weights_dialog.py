"""The first-run weights dialog: import a file, or download with progress and cancel.

Downloads go through the real code path (worker thread, engine.weights_download, the weights
store) from a real HTTP server on 127.0.0.1; only the catalogue's URL and hash are pointed at
the file that server holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine import catalogue, paths, weights_store
from engine.vgg import WeightsError
from gui.app import create_window
from gui.weights_dialog import default_network_provider
from tests.http_server import serving, url_of

WAIT_MS = 60_000
VGG19_TITLE = "VGG19, torchvision IMAGENET1K_V1"
SERVED_PATH = "/vgg19-dcbb9e9d.pth"


@pytest.fixture(scope="module")
def served_bytes(random_weights_file) -> bytes:
    return Path(random_weights_file).read_bytes()


@pytest.fixture
def weights_server(served_bytes, monkeypatch):
    """A server holding a VGG19 file, and a catalogue whose vgg19 is that file."""
    with serving({SERVED_PATH: served_bytes}) as server:
        shipped = catalogue._catalogue()
        vgg19 = dataclasses.replace(
            catalogue.model_spec("vgg19"),
            url=url_of(server, SERVED_PATH),
            sha256_prefix=hashlib.sha256(served_bytes).hexdigest()[:8],
            download_size=len(served_bytes),
        )
        models = tuple(vgg19 if m.name == "vgg19" else m for m in shipped.models)
        replaced = dataclasses.replace(shipped, models=models)
        monkeypatch.setattr(catalogue, "_catalogue", lambda: replaced)
        yield server


def no_weights():
    raise WeightsError("model vgg19 is not installed")


def open_dialog(qtbot):
    """A window with no model installed, its weights dialog open."""
    window = create_window(no_weights)
    qtbot.addWidget(window)
    window.show_weights_dialog("model vgg19 is not installed")
    return window, window.weights_dialog


def test_import_installs_weights_and_closes_the_dialog(qtbot, random_weights_file):
    window, dialog = open_dialog(qtbot)
    assert dialog.isVisible()
    with qtbot.waitSignal(window.state.weightsReady, timeout=WAIT_MS):
        dialog._import(random_weights_file)
    assert not dialog.isVisible()
    assert weights_store.find_installed("vgg19") is not None
    assert default_network_provider().arch == "vgg19"
    assert "installed" in window.messages.text.text()
    window.close()


def test_after_an_import_the_dialog_names_the_model_not_the_file(qtbot, random_weights_file):
    window, dialog = open_dialog(qtbot)
    with qtbot.waitSignal(window.state.weightsReady, timeout=WAIT_MS) as ready:
        dialog._import(random_weights_file)  # the combo's model: vgg19
    assert ready.args == ["vgg19"]
    assert dialog.status.text() == f"{VGG19_TITLE} is installed. Press Start."
    message = window.messages.text.text()
    assert VGG19_TITLE in message and Path(random_weights_file).name not in message
    window.close()


def test_download_shows_progress_and_installs_the_checked_file(qtbot, weights_server,
                                                               served_bytes):  # fmt: skip
    window, dialog = open_dialog(qtbot)
    shown = []  # what the dialog showed at each progress report (its slot runs first)
    window.state.downloadProgress.connect(
        lambda info: shown.append((info, dialog.progress.value(), dialog.status.text()))
    )
    with qtbot.waitSignal(window.state.weightsReady, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)

    assert shown, "no progress was shown"
    info, value, text = shown[0]
    assert info.bytes_total == len(served_bytes) and 0 < info.bytes_done <= len(served_bytes)
    assert value == round(info.fraction * 1000) and "MiB at" in text
    installed = weights_store.verify("vgg19")  # the stored file's hash checked again
    assert installed.source == url_of(weights_server, SERVED_PATH)
    assert installed.source_sha256 == hashlib.sha256(served_bytes).hexdigest()
    assert installed.is_published_file  # the download matched the catalogue's hash
    assert weights_server.site.requests == [(SERVED_PATH, None)]
    assert not dialog.isVisible() and VGG19_TITLE in window.messages.text.text()
    assert default_network_provider().arch == "vgg19"
    window.close()


def test_a_download_with_the_wrong_checksum_is_refused(qtbot, weights_server, monkeypatch):
    wrong = dataclasses.replace(catalogue.model_spec("vgg19"), sha256_prefix="00000000")
    others = tuple(m for m in catalogue.known_models() if m.name != "vgg19")
    replaced = catalogue.Catalogue("vgg19", (wrong, *others))
    monkeypatch.setattr(catalogue, "_catalogue", lambda: replaced)
    window, dialog = open_dialog(qtbot)
    with qtbot.waitSignal(window.state.weightsFailed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert "checksum mismatch" in dialog.status.text()
    assert dialog.download_button.isEnabled() and dialog.isVisible()
    assert weights_store.find_installed("vgg19") is None
    assert not any(paths.models_folder().iterdir())  # the wrong file was not kept
    window.close()


def test_download_can_be_cancelled_and_keeps_the_part_to_resume(qtbot, weights_server,
                                                                 served_bytes):  # fmt: skip
    weights_server.site.trickle[SERVED_PATH] = 0.02  # 64 KiB every 20 ms: still running
    window, dialog = open_dialog(qtbot)
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
    assert "MiB" in dialog.status.text() and dialog.cancel_button.isVisible()
    assert window.isEnabled()  # the rest of the window stays usable
    with qtbot.waitSignal(window.state.weightsFailed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Download cancelled."
    assert dialog.download_button.isEnabled()
    assert weights_store.find_installed("vgg19") is None
    (part,) = paths.models_folder().iterdir()
    assert part.name == SERVED_PATH[1:] + ".part"
    assert 0 < part.stat().st_size < len(served_bytes)
    window.close()


def test_first_run_offers_the_weights_at_once_and_not_when_installed(qtbot, random_network):
    from gui.app import offer_weights_if_missing

    window = create_window(lambda: random_network)
    qtbot.addWidget(window)
    window.show()
    assert offer_weights_if_missing(window)
    assert window.weights_dialog is not None and window.weights_dialog.isVisible()
    assert not window.weights_dialog.isModal()  # the rest of the window stays usable
    window.weights_dialog.close()
    window.close()

    import torch

    file = paths.models_folder().parent / "vgg19.pth"
    file.parent.mkdir(parents=True, exist_ok=True)
    torch.save(random_network.state_dict, file)
    weights_store.import_file(file, "vgg19")
    again = create_window(lambda: random_network)
    qtbot.addWidget(again)
    assert not offer_weights_if_missing(again) and again.weights_dialog is None
    again.close()


def assert_not_clipped(label) -> None:
    assert label.wordWrap()
    assert label.heightForWidth(label.width()) <= label.height()


def test_the_intro_is_not_clipped_while_a_download_is_busy(qtbot, weights_server):
    weights_server.site.trickle[SERVED_PATH] = 0.02  # slow enough to stay busy
    window, dialog = open_dialog(qtbot)
    qtbot.waitExposed(dialog)
    assert_not_clipped(dialog.intro)
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
    qtbot.wait(50)  # the layout settles
    assert_not_clipped(dialog.intro)
    assert_not_clipped(dialog.status)
    with qtbot.waitSignal(window.state.weightsFailed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    window.close()


def test_the_intro_is_not_clipped_while_an_import_is_busy(qtbot, monkeypatch, tmp_path):
    window = create_window(no_weights)
    qtbot.addWidget(window)
    monkeypatch.setattr(window.state, "import_weights", lambda path, model: None)  # stays busy
    window.show_weights_dialog("model vgg19 is not installed")
    dialog = window.weights_dialog
    qtbot.waitExposed(dialog)
    dialog._import(str(tmp_path / "vgg19.pth"))
    qtbot.wait(50)
    assert dialog.progress.isVisible() and not dialog.import_button.isEnabled()
    assert_not_clipped(dialog.intro)
    assert_not_clipped(dialog.status)
    window.close()


def test_the_title_says_needed_only_while_no_model_is_installed(qtbot, random_weights_file):
    window = create_window(no_weights)
    qtbot.addWidget(window)
    window.show()
    file_menu = window.menuBar().actions()[0].menu()
    open_weights = next(a for a in file_menu.actions() if a.text() == "Model weights…")
    open_weights.trigger()
    dialog = window.weights_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "Model weights needed"
    with qtbot.waitSignal(window.state.weightsReady, timeout=WAIT_MS):
        dialog._import(random_weights_file)
    assert not dialog.isVisible()
    open_weights.trigger()  # the same dialog, shown again from the menu
    assert window.weights_dialog is dialog and dialog.isVisible()
    assert dialog.windowTitle() == "Model weights"
    window.close()

    again = create_window(no_weights)  # a new window, a model installed
    qtbot.addWidget(again)
    again.show_weights_dialog("Download or import the network weights.")
    assert again.weights_dialog.windowTitle() == "Model weights"
    again.close()
