"""The window's banners above the canvas: messages (errors stay, notes fade) and the offer
to restore an autosaved session. Neither is a modal box: the window stays usable."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

from gui.state import AppState


class MessageBar(QFrame):
    """A message in the window (never a modal box): errors stay, notes fade after a while."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("MessageBar")
        self.text = QLabel(wordWrap=True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.again = QPushButton("Try again")
        self.again.setToolTip("Go on from the last good image at the same size")
        self.smaller = QPushButton("Retry at half size")
        self.cpu = QPushButton("Retry on the CPU")
        self.use_settings = QPushButton("Use this picture's settings")
        close = QToolButton(text="✕", autoRaise=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.again)
        layout.addWidget(self.smaller)
        layout.addWidget(self.cpu)
        layout.addWidget(self.use_settings)
        layout.addWidget(close)
        self.timer = QTimer(self, singleShot=True, interval=8000)
        self.timer.timeout.connect(self.hide)
        close.clicked.connect(self.hide)
        self.again.clicked.connect(self._retry_same)
        self.smaller.clicked.connect(self._retry_smaller)
        self.cpu.clicked.connect(self._retry_cpu)
        self.use_settings.clicked.connect(self._use_settings)
        state.message.connect(self.show_message)
        state.settingsOffered.connect(self._offer_settings)
        # An error stays until a later action succeeds: a new photo or painting, a Start.
        state.contentChanged.connect(self._clear_error)
        state.stylesChanged.connect(self._clear_error)
        state.statusChanged.connect(self._on_status)
        self.hide()

    @Slot(str, str)
    def show_message(self, level: str, text: str) -> None:
        if level == "warning" and self.isVisibleTo(self.parentWidget()):
            if self.property("level") == "warning" and text not in self.text.text():
                text = f"{self.text.text()}\n{text}"  # launch can bring two: keep both
        self.text.setText(text)
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.again.setVisible(level == "oom")
        self.smaller.setVisible(level == "oom")
        self.cpu.setVisible(level == "oom")
        self.use_settings.setVisible(False)
        self.show()
        if level == "info":
            self.timer.start()
        else:
            self.timer.stop()

    @Slot()
    def _clear_error(self) -> None:
        if self.property("level") in ("error", "oom"):
            self.hide()

    @Slot(str)
    def _on_status(self, status: str) -> None:
        if status == "running":
            self._clear_error()

    @Slot(str, bool)
    def _offer_settings(self, text: str, usable: bool) -> None:
        self.show_message("warning" if usable else "error", text)
        self.use_settings.setVisible(usable)

    @Slot()
    def _use_settings(self) -> None:
        self.hide()
        self.state.use_offered_settings()

    @Slot()
    def _retry_same(self) -> None:
        self.hide()
        self.state.retry()

    @Slot()
    def _retry_smaller(self) -> None:
        self.hide()
        self.state.retry(size=max(64, self.state.settings.size // 2))

    @Slot()
    def _retry_cpu(self) -> None:
        self.hide()
        self.state.retry(device="cpu")


class RestoreBar(QFrame):
    """Offers an autosaved session at launch, without blocking the window."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("RestoreBar")
        self.text = QLabel(wordWrap=True)
        self.restore = QPushButton("Restore")
        self.discard = QPushButton("Discard")
        self.restore.setToolTip("Bring back the photo, paintings, settings, snapshots and image")
        self.discard.setToolTip("Delete the autosaved session and start afresh")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.restore)
        layout.addWidget(self.discard)
        self.restore.clicked.connect(self._on_restore)
        self.discard.clicked.connect(self._on_discard)
        state.sessionOffered.connect(self.offer)
        self.hide()

    @Slot(object)
    def offer(self, session) -> None:
        if session is None:
            self.hide()
            return
        self.text.setText(f"Restore the session from {saved_time_text(session.saved_at)} "
                          f"(step {session.iteration})?")  # fmt: skip
        self.show()

    @Slot()
    def _on_restore(self) -> None:
        self.state.restore_session()

    @Slot()
    def _on_discard(self) -> None:
        self.state.discard_offered_session()


def saved_time_text(saved_at: float) -> str:
    """ "14:05", or "12 Mar 14:05" for another day."""
    when = time.localtime(saved_at)
    same_day = time.strftime("%Y%m%d", when) == time.strftime("%Y%m%d")
    return time.strftime("%H:%M" if same_day else "%d %b %H:%M", when)
