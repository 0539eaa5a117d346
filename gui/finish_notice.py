"""A desktop notification when a run finishes, where the desktop offers one
(QSystemTrayIcon.showMessage); elsewhere nothing happens and nothing fails. The status bar
and the message bar say it in the window in every case."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

NOTICE_MS = 8000


class FinishNotifier(QObject):
    """Tells the desktop when `state` says a run finished. `shown` is the last notice
    handed to the desktop ("" while none was, or the desktop has no notifications)."""

    def __init__(self, state, window: QWidget):
        super().__init__(window)
        self.window, self.tray = window, None
        self.shown = ""
        # The icon is there for the notice only: it leaves the tray when the notice has gone.
        self.hide_timer = QTimer(self, singleShot=True, interval=NOTICE_MS + 2000)
        self.hide_timer.timeout.connect(self._hide)
        state.runFinished.connect(self.notify)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()

    @Slot(str)
    def notify(self, text: str) -> None:
        if not self.available():
            return
        icon = self.window.windowIcon()
        if self.tray is None:
            self.tray = QSystemTrayIcon(icon, self)  # owned: it goes with the window
            self.tray.setToolTip("Impasto")
        self.tray.show()
        self.tray.showMessage("Impasto", text, icon, NOTICE_MS)
        self.shown = text
        self.hide_timer.start()

    @Slot()
    def _hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
