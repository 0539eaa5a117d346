"""Autosave and restore: the work is kept while a run goes (every 30 s, after each
snapshot and at the end) and offered again at the next launch. The state says what the
session is (`make_session`); this keeps the timer, the offer and the warnings."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from engine.paths import autosave_folder
from engine.session import Session, SessionError, discard_session, load_session, set_aside
from gui.autosave import Autosaver

AUTOSAVE_INTERVAL_MS = 30_000  # while running or paused; also after each snapshot and at the end


class SessionKeeper(QObject):
    offered = Signal(object)  # the Session found at launch; None once it is answered
    warning = Signal(str)

    def __init__(self, make_session: Callable[[], Session | None],
                 newest_frame: Callable[[], object], parent: QObject):  # fmt: skip
        super().__init__(parent)
        self.make_session, self.newest_frame = make_session, newest_frame
        self.autosaver = Autosaver(parent=self)
        self.autosaver.failed.connect(self._on_failed)
        self.pending: Session | None = None  # offered at launch, not yet answered
        self._timer = QTimer(self, interval=AUTOSAVE_INTERVAL_MS)
        self._timer.timeout.connect(self.save)
        self._saved_key: tuple | None = None  # what the last autosave held
        self._warned = False
        self._closed = False

    def run_started(self) -> None:
        """A new run's autosave replaces an offered old one; warn again if it fails."""
        if self.pending is not None:
            self.take_pending()
        self._warned = False
        self._timer.start()

    def run_ended(self) -> None:
        self._timer.stop()
        self.save()  # the final image too: a crash later must not lose it

    @Slot()
    def save(self) -> None:
        """Hand the session to the autosaver (written in its own thread)."""
        session = self.make_session()
        if session is None or self._closed:
            return
        # A paused run's timer ticks too; write only when something changed.
        key = (session.iteration, len(session.snapshots), id(self.newest_frame()),
               session.settings)  # fmt: skip
        if key != self._saved_key:
            self._saved_key = key
            self.autosaver.save(session)

    def look(self) -> None:
        """At launch: offer an autosaved session; set a damaged one aside and say so."""
        folder = self.autosaver.folder
        if folder != autosave_folder():
            self.warning.emit(f"Another Impasto window is open: this one keeps its work in "
                              f"{folder.name} ({folder}).")  # fmt: skip
        try:
            session = load_session(folder)
        except (SessionError, OSError) as error:
            try:
                aside = set_aside(folder)
                kept = f" It was kept as {aside.name}." if aside else ""
            except OSError:
                kept = ""
            self.warning.emit("The autosaved session could not be read and was set aside; "
                              f"starting afresh.{kept} ({error})")  # fmt: skip
            return
        if session is not None:
            self.pending = session
            self.offered.emit(session)

    def take_pending(self) -> Session | None:
        session, self.pending = self.pending, None
        self.offered.emit(None)
        return session

    def discard_pending(self) -> None:
        self.take_pending()
        discard_session(self.autosaver.folder)

    def close(self, discard: bool = False) -> None:
        """At shutdown: the last save (unless `discard`), then no more."""
        self._timer.stop()
        if not discard:
            self.save()
        self._closed = True
        self.autosaver.close(discard=discard)

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        if not self._warned:  # once per run: a full disk stays full
            self._warned = True
            self.warning.emit(f"Autosave failed: {text}")
