"""The model choice: a VGG16 alone is enough to run; the combo shows what is installed;
the choice is remembered; the weights dialog imports a file as the model picked in it."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from engine import catalogue, weights_store
from engine.vgg import random_state_dict
from gui.app import create_window, offer_weights_if_missing
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.gui.conftest import drop_files

WAIT_MS = 60_000
VGG16_TITLE = "VGG16, torchvision IMAGENET1K_V1"


@pytest.fixture(scope="session")
def vgg16_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("vgg16") / "my-own-vgg16.pth"
    torch.save(random_state_dict("vgg16", seed=1), path)
    return str(path)


def real_window(qtbot):
    """A window on the real weights manager: it runs what is installed."""
    window = create_window()
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    return window


def combo_items(window) -> dict[str, tuple[bool, str, str]]:
    """{model name: (enabled, label, tooltip)} as the model combo shows them."""
    combo = window.controls.model
    items = {}
    for row in range(combo.count()):
        item = combo.model().item(row)
        items[combo.itemData(row)] = (item.isEnabled(), item.text(), item.toolTip())
    return items


def import_in_dialog(qtbot, window, monkeypatch, path: str, model: str):
    """Pick `model` in the weights dialog, press Import file… and choose `path`."""
    window.show_weights_dialog("Download or import the network weights.")
    dialog = window.weights_dialog
    dialog.model.setCurrentIndex(dialog.model.findData(model))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (path, ""))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    return dialog


def test_an_imported_vgg16_alone_runs_at_start_without_asking_for_vgg19(
    qtbot, monkeypatch, images, vgg16_file
):
    window = real_window(qtbot)
    state = window.state
    assert state.model is None and offer_weights_if_missing(window)  # nothing installed yet
    asked = []
    state.needsWeights.connect(asked.append)

    with qtbot.waitSignal(state.weightsReady, timeout=WAIT_MS):
        dialog = import_in_dialog(qtbot, window, monkeypatch, vgg16_file, "vgg16")
    assert not dialog.isVisible()
    # The message names the model, not the file it came from.
    text = window.messages.text.text()
    assert VGG16_TITLE in text and "my-own-vgg16" not in text
    assert state.model == "vgg16" and window.controls.model.currentData() == "vgg16"

    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    state.set_settings(size=64, steps=400, scales=(), style_weight=RANDOM_NET_STYLE_WEIGHT)
    qtbot.mouseClick(window.run_panel.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.report is not None and state.report.iteration >= 3,
                    timeout=WAIT_MS)  # fmt: skip
    assert asked == []  # no prompt for vgg19
    assert state.worker.run_settings.model == "vgg16"
    assert state.worker._network.arch == "vgg16"
    qtbot.mouseClick(window.run_panel.stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert state.run_settings.model == "vgg16"
    window.close()


def test_the_model_combo_shows_installed_and_not_installed_models(qtbot, vgg16_file):
    weights_store.import_file(vgg16_file, "vgg16")
    weights_store.import_file(vgg16_file, "vgg16-caffe")
    window = real_window(qtbot)
    items = combo_items(window)
    assert list(items) == [spec.name for spec in catalogue.known_models()]
    assert items["vgg16"] == (True, VGG16_TITLE, "")
    assert items["vgg16-caffe"][0]
    for name in ("vgg19", "vgg19-caffe"):
        enabled, label, tip = items[name]
        assert not enabled and label.endswith("— not installed")
        assert "Model weights…" in tip and "download or import" in tip
    # The catalogue default (vgg19) is not installed: the first installed model is chosen.
    combo = window.controls.model
    assert combo.currentData() == "vgg16" and window.state.model == "vgg16"
    # Down goes to the next model that can be picked, past the one not installed.
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentData() == "vgg16-caffe" and window.state.model == "vgg16-caffe"
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # nothing installed below: stays
    assert window.state.model == "vgg16-caffe"
    assert not offer_weights_if_missing(window)  # a VGG16 is enough: no first-run prompt
    window.close()


def test_with_no_model_installed_the_combo_says_where_to_get_one(qtbot):
    window = real_window(qtbot)
    combo = window.controls.model
    assert combo.currentIndex() == -1 and "Model weights…" in combo.placeholderText()
    assert not any(enabled for enabled, _, _ in combo_items(window).values())
    window.close()


def test_the_chosen_model_is_remembered_across_a_relaunch(qtbot, vgg16_file, random_weights_file):
    weights_store.import_file(random_weights_file, "vgg19")
    weights_store.import_file(vgg16_file, "vgg16")
    first = real_window(qtbot)
    assert first.state.model == "vgg19"  # the catalogue default, when installed
    first.controls.model.setFocus()
    qtbot.keyClick(first.controls.model, Qt.Key.Key_Down)
    assert first.state.model == "vgg16"
    first.close()

    second = real_window(qtbot)
    assert second.state.model == "vgg16" and second.controls.model.currentData() == "vgg16"
    second.close()


def test_the_dialog_refuses_a_file_that_does_not_fit_the_model_picked_in_it(
    qtbot, monkeypatch, vgg16_file
):
    window = real_window(qtbot)
    with qtbot.waitSignal(window.state.weightsFailed, timeout=WAIT_MS):
        dialog = import_in_dialog(qtbot, window, monkeypatch, vgg16_file, "vgg19")
    assert dialog.isVisible()
    assert "holds a VGG16" in dialog.status.text()
    assert "import it as one of: vgg16, vgg16-caffe" in dialog.status.text()
    assert dialog.import_button.isEnabled()
    assert window.state.model is None and weights_store.find_installed("vgg19") is None

    # Picking the model it is, the same file goes in, and the window runs it.
    with qtbot.waitSignal(window.state.weightsReady, timeout=WAIT_MS):
        import_in_dialog(qtbot, window, monkeypatch, vgg16_file, "vgg16-caffe")
    assert window.state.model == "vgg16-caffe"
    assert "VGG16, Caffe weights" in window.messages.text.text()
    window.close()
