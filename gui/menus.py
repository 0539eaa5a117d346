"""The window's menu bar: its menus, their actions and keyboard shortcuts. The actions call
the window's and the state's own methods; no behaviour lives here."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence


class WindowMenus(QObject):
    """File, Run and View for `window` (a MainWindow), built once; the run actions are
    enabled only while a run goes."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        state = window.state
        bar = window.menuBar()
        file = bar.addMenu("&File")
        self._add(file, "Open photo…", window.content_pane.browse, QKeySequence.StandardKey.Open)
        self._add(file, "Add painting…", window.style_pane.browse, "Ctrl+Shift+O")
        self._add(file, "Paste as photo", window.content_pane.paste,
                  QKeySequence.StandardKey.Paste)  # fmt: skip
        self._add(file, "Paste as painting", window.style_pane.paste, "Ctrl+Shift+V")
        file.addSeparator()
        self._add(file, "Save image…", window.save_dialog, QKeySequence.StandardKey.Save)
        self._add(file, "Save settings as preset…", window.save_preset_dialog)
        self._add(file, "Load preset…", window.load_preset_dialog)
        file.addSeparator()
        self._add(file, "Model weights…", window.open_weights)
        # Ctrl+Q spelled out: StandardKey.Quit is empty on Windows and on bare Linux desktops.
        quit_action = self._add(file, "Quit", window.quit, "Ctrl+Q")
        # Also from the weights dialog (its own window) and any other window of the app.
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        run = bar.addMenu("&Run")
        self._add(run, "Start", window.run_panel.start_run, "Ctrl+Return")
        self.pause_action = self._add(run, "Pause / resume", state.toggle_pause, "Space")
        self.stop_action = self._add(run, "Stop", state.stop, "Esc")
        view = bar.addMenu("&View")
        self._add(view, "Fit to window", window.canvas.fit_to_window, "Ctrl+0")
        self._add(view, "Actual pixels (100%)", window.canvas.actual_size, "Ctrl+1")
        zoom_in = self._add(view, "Zoom in", window.zoom_in, QKeySequence.StandardKey.ZoomIn)
        # Ctrl+= too, as in Krita and GIMP: "+" needs Shift on most keyboards.
        zoom_in.setShortcuts([*zoom_in.shortcuts(), QKeySequence("Ctrl+=")])
        self._add(view, "Zoom out", window.zoom_out, QKeySequence.StandardKey.ZoomOut)
        self._add(view, "Before / after", window.compare_button.toggle, "B")
        self._add(view, "Live view", window.view_live, "L")
        state.statusChanged.connect(self.enable_run_actions)
        self.enable_run_actions()

    def _add(self, menu, text: str, slot, shortcut=None) -> QAction:
        item = QAction(text, self.window)
        if shortcut is not None:
            item.setShortcut(QKeySequence(shortcut))
        item.triggered.connect(slot)
        menu.addAction(item)
        return item

    @Slot()
    def enable_run_actions(self, *_) -> None:
        # Without a run, Space and Esc stay with the focused widget (a check box, a button).
        active = self.window.state.active
        self.pause_action.setEnabled(active)
        self.stop_action.setEnabled(active)
