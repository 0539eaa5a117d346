"""Space and Esc act on the run whatever has focus in the window.

A focused field would otherwise take them: Space types a blank into a value box (the
state right after typing a new weight while paused), toggles a check box or presses a
button. While a run is going or paused, those two keys mean the run: the field's edit is
committed first (as Enter or leaving the field would), then the window's shortcut fires.
When no run is going, focused widgets keep their usual keys.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QWidget

RUN_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Escape)


class RunKeys(QObject):
    """An application event filter for `window`, whose run `state` holds."""

    def __init__(self, window: QWidget, state):
        super().__init__(window)
        self.window, self.state = window, state
        # A child of the window: Qt removes the filter when the window is deleted, and
        # the window's shutdown removes it when it closes.
        QApplication.instance().installEventFilter(self)

    def uninstall(self) -> None:
        QApplication.instance().removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        if event.key() not in RUN_KEYS or event.modifiers() != Qt.KeyboardModifier.NoModifier:
            return False
        focus = QApplication.focusWidget()
        if watched is not focus or focus.window() is not self.window or not self.state.active:
            return False  # dialogs and popups (a combo's list) keep their keys
        commit_edit(focus)
        return True  # not taken by the field: the window's shortcut gets the key


def commit_edit(widget: QWidget) -> None:
    """Commit what is typed in a value field, as Enter would."""
    if isinstance(widget, QAbstractSpinBox):
        widget.interpretText()
        widget.editingFinished.emit()
    elif isinstance(widget, QLineEdit) and widget.isModified():
        widget.editingFinished.emit()
