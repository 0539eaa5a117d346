"""Help ▸ Keyboard shortcuts and Help ▸ About. Both are windows of their own, not modal: the
shortcuts can stay open beside the main window while one learns them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from engine.version import __version__

ABOUT_TEXT = (
    f"<h3>Impasto {__version__}</h3>"
    "<p>Repaints a photo in the style of a painting, live: neural style transfer by "
    "optimisation (Gatys, Ecker &amp; Bethge, 2016) on a VGG network.</p>"
    "<p>Runs on an NVIDIA or Apple GPU or on the CPU, offline once its model weights are "
    "installed.</p>"
)
# Keys that no menu item shows: the canvas's own.
CANVAS_KEYS = (("Zoom around the cursor", "Mouse wheel"), ("Pan", "Drag"),
               ("Fit / 100 %", "Double-click the picture"))  # fmt: skip


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, item, keys) for every menu item that has a shortcut, in menu order: read from
    the menus themselves, so the list cannot drift from what the keys do."""
    rows = []
    for top in menu_bar.actions():
        menu = top.menu()
        if menu is None:
            continue
        title = top.text().replace("&", "")
        for action in _actions(menu):
            keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText)
                             for key in action.shortcuts() if not key.isEmpty())  # fmt: skip
            if keys:
                # Undo's text names its change ("Undo Style strength"): listed by its name.
                name = action.property("shortcut_name") or action.text()
                rows.append((title, name.replace("&", ""), keys))
    return rows


def _actions(menu) -> list[QAction]:
    found = []
    for action in menu.actions():
        if action.menu() is not None:
            found += _actions(action.menu())
        elif not action.isSeparator():
            found.append(action)
    return found


class ShortcutsDialog(QDialog):
    def __init__(self, menu_bar: QMenuBar, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [*shortcut_rows(menu_bar), *(("Canvas", what, how) for what, how in CANVAS_KEYS)]
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, texts in enumerate(rows):
            for column, text in enumerate(texts):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        # Every row in view where the screen has room; it scrolls on a small one.
        width = sum(self.table.columnWidth(c) for c in range(3)) + 60
        rows_height = self.table.verticalHeader().length() + self.table.horizontalHeader().height()
        screen = self.screen().availableGeometry().height() if self.screen() else 720
        self.resize(max(420, width), min(rows_height + 80, screen - 80))


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About Impasto")
        self.text = QLabel(ABOUT_TEXT, wordWrap=True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)
