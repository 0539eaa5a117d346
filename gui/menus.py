"""The window's menu bar: its menus, their actions and keyboard shortcuts. The actions call
the window's and the state's own methods; no behaviour lives here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from gui.help_dialogs import AboutDialog, ShortcutsDialog
from gui.recent_files import recent_files


class WindowMenus(QObject):
    """File, Edit, Run, View and Help for `window` (a MainWindow), built once; the run
    actions are enabled only while a run goes, Undo and Redo say what they would change."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.about_dialog: AboutDialog | None = None
        state = window.state
        bar = window.menuBar()
        file = bar.addMenu("&File")
        self._add(file, "Open photo…", window.content_pane.browse, QKeySequence.StandardKey.Open)
        self._add(file, "Add painting…", window.style_pane.browse, "Ctrl+Shift+O")
        self._add(file, "Paste as photo", window.content_pane.paste,
                  QKeySequence.StandardKey.Paste)  # fmt: skip
        self._add(file, "Paste as painting", window.style_pane.paste, "Ctrl+Shift+V")
        self.recent_menu = file.addMenu("Open recent")
        self.recent_menu.triggered.connect(self._open_recent)
        file.addSeparator()
        self._add(file, "Save image…", window.save_dialog, QKeySequence.StandardKey.Save)
        self._add(file, "Save settings as preset…", window.save_preset_dialog)
        self._add(file, "Load preset…", window.load_preset_dialog)
        file.addSeparator()
        self.variations_action = self._add(file, "Render variations…", window.render_variations)
        self.size_action = self._add(file, "Render at size…", window.render_at_size)
        file.addSeparator()
        self._add(file, "Model weights…", window.open_weights)
        # Ctrl+Q spelled out: StandardKey.Quit is empty on Windows and on bare Linux desktops.
        quit_action = self._add(file, "Quit", window.quit, "Ctrl+Q")
        # Also from the weights dialog (its own window) and any other window of the app.
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        edit = bar.addMenu("&Edit")
        # Settings changes. A focused text field takes Ctrl+Z for its own typing first.
        self.undo_action = self._add(edit, "Undo", state.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._add(edit, "Redo", state.redo, "Ctrl+Shift+Z")
        self.undo_action.setProperty("shortcut_name", "Undo")
        self.redo_action.setProperty("shortcut_name", "Redo")
        redo_keys = [QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)]
        self.redo_action.setShortcuts(list(dict.fromkeys(redo_keys)))  # Ctrl+Y on Windows
        run = bar.addMenu("&Run")
        self._add(run, "Start", window.run_panel.start_run, "Ctrl+Return")
        self.pause_action = self._add(run, "Pause / resume", state.toggle_pause, "Space")
        self.stop_action = self._add(run, "Stop", state.stop, "Esc")
        self.larger_action = self._add(run, "Continue at 2× size", state.continue_larger,
                                       "Ctrl+Shift+Return")  # fmt: skip
        view = bar.addMenu("&View")
        self._add(view, "Fit to window", window.canvas.fit_to_window, "Ctrl+0")
        self._add(view, "Actual pixels (100%)", window.canvas.actual_size, "Ctrl+1")
        zoom_in = self._add(view, "Zoom in", window.zoom_in, QKeySequence.StandardKey.ZoomIn)
        # Ctrl+= too, as in Krita and GIMP: "+" needs Shift on most keyboards.
        zoom_in.setShortcuts([*zoom_in.shortcuts(), QKeySequence("Ctrl+=")])
        self._add(view, "Zoom out", window.zoom_out, QKeySequence.StandardKey.ZoomOut)
        self._add(view, "Before / after", window.compare_button.toggle, "B")
        self._add(view, "Live view", window.view_live, "L")
        help_menu = bar.addMenu("&Help")
        self._add(help_menu, "Keyboard shortcuts", self.show_shortcuts, "F1")
        self._add(help_menu, "About Impasto", self.show_about)
        for signal in (state.statusChanged, state.contentChanged, state.stylesChanged):
            signal.connect(self.enable_run_actions)
        state.undoChanged.connect(self.refresh_undo)
        state.recentChanged.connect(self.refresh_recent)
        self.enable_run_actions()
        self.refresh_undo()
        self.refresh_recent()

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
        state = self.window.state
        self.pause_action.setEnabled(state.active)
        self.stop_action.setEnabled(state.active)
        self.larger_action.setEnabled(state.can_continue_larger())
        self.variations_action.setEnabled(state.content is not None and bool(state.styles))
        has_picture = state.frame is not None and state.status in ("idle", "paused")
        self.size_action.setEnabled(has_picture and state.report is not None)

    @Slot()
    def refresh_undo(self) -> None:
        state = self.window.state
        self.undo_action.setText(state.undo_text())
        self.undo_action.setEnabled(bool(state.undo_stack))
        self.redo_action.setText(state.undo_text(redo=True))
        self.redo_action.setEnabled(bool(state.redo_stack))

    @Slot()
    def refresh_recent(self) -> None:
        """One item per recent file, newest first; its data is (kind, path)."""
        menu = self.recent_menu
        menu.clear()  # deletes the items it owns
        entries = recent_files(self.window.state.preferences)
        for kind, path in entries:
            item = QAction(f"{Path(path).name}  ({kind})", menu)
            item.setData([kind, path])
            item.setToolTip(path)
            menu.addAction(item)
        menu.setToolTipsVisible(True)
        if entries:
            menu.addSeparator()
            menu.addAction(QAction("Clear the list", menu))  # no data: clears
        else:
            empty = QAction("No recent files", menu)
            empty.setEnabled(False)
            menu.addAction(empty)

    @Slot(QAction)
    def _open_recent(self, item: QAction) -> None:
        data = item.data()
        if data:
            self.window.state.open_recent(*data)
        else:
            self.window.state.clear_recent()

    @Slot()
    def show_shortcuts(self) -> None:
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.window.menuBar(), self.window)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()

    @Slot()
    def show_about(self) -> None:
        if self.about_dialog is None:
            self.about_dialog = AboutDialog(self.window)
        self.about_dialog.show()
        self.about_dialog.raise_()
