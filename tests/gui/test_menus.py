"""The menus added for issue 12: Help (keyboard shortcuts, About), File ▸ Open recent (kept in
the JSON preferences) and Edit ▸ Undo / Redo of settings changes."""

from __future__ import annotations

import json
import shutil

from PySide6.QtCore import Qt

from gui.app import create_window
from gui.preferences import FILE_NAME, Preferences
from tests.gui.conftest import drop_files

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton


def menu(window, title: str):
    return next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == title)


def item(menu_, text: str):
    return next(a for a in menu_.actions() if a.text() == text)


def test_f1_lists_the_keyboard_shortcuts_from_the_menus(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.menus.shortcuts_dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible())
    table = dialog.table
    rows = {tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())}
    assert ("Run", "Start", "Ctrl+Return") in rows
    assert ("Edit", "Undo", "Ctrl+Z") in rows
    assert any(row[1] == "Redo" and "Ctrl+Shift+Z" in row[2] for row in rows)
    assert ("Help", "Keyboard shortcuts", "F1") in rows
    item(menu(window, "Help"), "About Impasto").trigger()
    about = window.menus.about_dialog
    assert about.isVisible() and "Impasto 0." in about.text.text()
    window.close()
    assert not dialog.isVisible() and not about.isVisible()  # they go with the window


def test_undo_and_redo_of_settings_changes(window, qtbot):
    state, controls = window.state, window.controls
    edit = menu(window, "Edit")
    before = state.settings
    qtbot.mouseClick(controls.preserve, LEFT, pos=controls.preserve.rect().center())
    assert state.settings.preserve_colors
    assert item(edit, "Undo Keep the photo's colours").isEnabled()
    controls.style_weight.slider.setFocus()
    qtbot.keyClick(controls.style_weight.slider, Qt.Key.Key_PageDown)  # ten points less
    strong = state.settings.style_weight  # the name of the test's variable: the new weight
    assert strong < before.style_weight
    assert item(edit, "Undo Style strength").isEnabled()

    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert state.settings.style_weight == before.style_weight and state.settings.preserve_colors
    assert controls.style_weight.box.text() == f"{before.style_weight:.3g}"  # controls follow
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert state.settings == before and not controls.preserve.isChecked()
    assert item(edit, "Redo Keep the photo's colours").isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert state.settings.preserve_colors and state.settings.style_weight == before.style_weight
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert state.settings.style_weight == strong
    # A new change after an undo drops what could be redone.
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    qtbot.mouseClick(controls.preserve, LEFT, pos=controls.preserve.rect().center())
    assert not item(edit, "Redo").isEnabled()


def test_a_preset_is_one_change_to_undo(window, qtbot):
    state = window.state
    before = state.settings
    state.apply_preset("Smooth")
    assert state.settings != before and "changes" in state.undo_text()
    state.undo()
    assert state.settings == before


def test_recent_files_are_offered_kept_as_json_and_reopened(
    window, qtbot, images, tmp_path, random_network
):
    recent = window.menus.recent_menu
    assert [a.text() for a in recent.actions()] == ["No recent files"]
    photo = tmp_path / "harbour.png"
    shutil.copy(images["photo"], photo)
    assert drop_files(window.content_pane, [str(photo)])
    assert drop_files(window.style_pane, [images["painting"]])
    texts = [a.text() for a in recent.actions() if not a.isSeparator()]
    assert texts == ["painting.jpg  (painting)", "harbour.png  (photo)", "Clear the list"]
    window.close()  # preferences are saved as JSON at the close
    saved = json.loads((Preferences().path.parent / FILE_NAME).read_text())
    assert saved["recent_files"][1] == ["photo", str(photo.resolve())]

    again = create_window(lambda: random_network)
    qtbot.addWidget(again)
    again.show()
    entries = [a for a in again.menus.recent_menu.actions() if a.data()]
    assert [a.data()[0] for a in entries] == ["painting", "photo"]
    entries[1].trigger()
    assert again.state.content is not None and again.state.content.label == "harbour.png"
    photo.unlink()  # gone since: said so, and dropped from the list
    entries = [a for a in again.menus.recent_menu.actions() if a.data()]
    entries[0 if entries[0].data()[0] == "photo" else 1].trigger()
    assert "harbour.png is no longer there" in again.messages.text.text()
    kinds = [a.data()[0] for a in again.menus.recent_menu.actions() if a.data()]
    assert kinds == ["painting"]
    item(again.menus.recent_menu, "Clear the list").trigger()
    assert [a.text() for a in again.menus.recent_menu.actions()] == ["No recent files"]
    again.close()


def test_a_bad_recent_list_in_the_preferences_is_set_aside(tmp_path):
    (tmp_path / FILE_NAME).write_text(json.dumps({"version": 1, "recent_files": [["x", 3]]}))
    preferences = Preferences(tmp_path)
    assert "recent_files" in preferences.problem and preferences.get("recent_files") == []
