"""The first-run weights dialog: import a file, or download with progress and cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine import weights
from engine.vgg import WeightsError
from gui.app import create_window
from gui.weights_dialog import default_network_provider

WAIT_MS = 60_000


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
    assert weights.find_installed("vgg19") is not None
    assert default_network_provider().arch == "vgg19"
    assert "installed" in window.messages.text.text()
    window.close()


def test_download_shows_progress_and_can_be_cancelled(qtbot, monkeypatch):
    monkeypatch.setattr(weights, "download", slow_download)
    window, dialog = open_dialog(qtbot)
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
    assert "MiB" in dialog.status.text() and dialog.cancel_button.isVisible()
    assert window.isEnabled()  # the rest of the window stays usable
    with qtbot.waitSignal(window.state.weightsFailed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Download cancelled."
    assert dialog.download_button.isEnabled()
    window.close()


def test_first_run_offers_the_weights_at_once_and_not_when_installed(qtbot, random_network):
    from engine import weights
    from gui.app import create_window, offer_weights_if_missing

    window = create_window(lambda: random_network)
    qtbot.addWidget(window)
    window.show()
    assert offer_weights_if_missing(window)
    assert window.weights_dialog is not None and window.weights_dialog.isVisible()
    assert not window.weights_dialog.isModal()  # the rest of the window stays usable
    window.weights_dialog.close()
    window.close()

    import torch

    file = weights.install_folder().parent / "vgg19.pth"
    file.parent.mkdir(parents=True, exist_ok=True)
    torch.save(random_network.state_dict, file)
    weights.import_file(file, "vgg19")
    again = create_window(lambda: random_network)
    qtbot.addWidget(again)
    assert not offer_weights_if_missing(again) and again.weights_dialog is None
    again.close()


def slow_download(name, progress=None, cancel=None, **kwargs):
    """A download that goes on, a MiB at a time, until it is cancelled."""
    for chunk in range(1, 10_000):
        progress(weights.ProgressInfo(chunk * 2**20, 548 * 2**20, 20 * 2**20))
        if cancel.wait(0.02):
            raise weights.DownloadCancelled("download cancelled")
    raise AssertionError("never cancelled")


def assert_not_clipped(label) -> None:
    assert label.wordWrap()
    assert label.heightForWidth(label.width()) <= label.height()


def test_the_intro_is_not_clipped_while_a_download_is_busy(qtbot, monkeypatch):
    monkeypatch.setattr(weights, "download", slow_download)
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
