"""A FIFO chosen in the window's file dialogs (Regions ▸ Import…, File ▸ Load preset…), a path
the OS refuses, a decompression bomb as a preset: a message at once, and the GUI thread goes
on (tests/engine/test_not_regular_files.py and test_refused_paths.py have the command
line's)."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QToolButton

from tests.engine.helpers import fifo
from tests.gui.conftest import drop_files


def choose_in_the_dialog(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *args, **kwargs: (str(path), "")))  # fmt: skip


def test_a_fifo_imported_as_a_mask_is_a_message(window, images, tmp_path, monkeypatch):
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    window.regions.toggle.click()
    with fifo(tmp_path / "mask.png") as path:
        choose_in_the_dialog(monkeypatch, path)
        button = next(b for b in window.regions.panel.findChildren(QToolButton)
                      if b.text() == "Import…")  # fmt: skip
        button.click()
    assert "mask.png: not a regular file" in window.messages.text.text()


def test_a_fifo_loaded_as_a_preset_is_a_message(window, tmp_path, monkeypatch):
    before = window.state.settings
    with fifo(tmp_path / "preset.json") as path:
        choose_in_the_dialog(monkeypatch, path)
        next(a for a in window.findChildren(QAction) if a.text() == "Load preset…").trigger()
    assert "preset.json" in window.messages.text.text()
    assert "not a regular file" in window.messages.text.text()
    assert window.state.settings == before


def test_paths_the_os_refuses_and_a_bomb_are_messages(window, tmp_path, monkeypatch):
    (tmp_path / "loop-a.png").symlink_to(tmp_path / "loop-b.png")
    (tmp_path / "loop-b.png").symlink_to(tmp_path / "loop-a.png")
    for path in (tmp_path / ("n" * 300 + ".png"), tmp_path / "loop-a.png"):
        assert drop_files(window.content_pane, [str(path)])
        text = window.messages.text.text()
        assert "too long" in text or "a loop of symbolic links" in text, text
    # A PNG claiming 30 000 x 10 000 px (Pillow refuses it outright) given to Load preset.
    from tests.engine.test_images import png_claiming

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(30_000, 10_000))
    choose_in_the_dialog(monkeypatch, bomb)
    next(a for a in window.findChildren(QAction) if a.text() == "Load preset…").trigger()
    assert window.messages.text.text().startswith("bomb.png")
