"""Autosave off the GUI thread: the state hands over a Session (its images are never
changed after they are made, so no copy is needed) and one pool thread writes it with
engine.session.save_session.

At most one save is written at a time. A save asked for while one is being written
replaces any older waiting one, so a burst of snapshots costs at most two writes.
Writing a session re-encodes every PNG (the photo at full size among them): a few
hundred ms for a 12-megapixel photo, which must not stall the canvas or the run.

Each window owns its autosave folder while it is open (a lock the OS drops if it dies): a
second window, while the first has `autosave`, autosaves to `autosave-2`, and says so.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from engine.files import FileLock
from engine.images import ImageError
from engine.paths import autosave_folder
from engine.session import Session, discard_session, save_session

CLOSE_WAIT_MS = 1500  # a clean close waits this long for a save in progress
MAX_WINDOWS = 9  # autosave, autosave-2 ... autosave-9


def claim_autosave_folder() -> tuple[Path, FileLock | None]:
    """The autosave folder no other open window owns, and the lock that owns it: the usual
    one, else `autosave-2`, `autosave-3`... (None: none could be locked; the usual one)."""
    base = autosave_folder()
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        for number in range(1, MAX_WINDOWS + 1):
            folder = base if number == 1 else base.with_name(f"{base.name}-{number}")
            lock = FileLock(folder.with_name(f"{folder.name}.window.lock"))
            if lock.acquire(wait=False):
                return folder, lock
    except OSError:  # a read-only data folder: the saves will say why they fail
        pass
    return base, None


class _Signals(QObject):
    """Per task, so a task finishing after its Autosaver is gone emits into nothing."""

    done = Signal(str)  # why the save failed; "" when it was written


class _SaveTask(QRunnable):
    def __init__(self, saver: Autosaver, session: Session):
        super().__init__()
        self.saver, self.session, self.signals = saver, session, _Signals()

    def run(self) -> None:  # in the pool thread
        session = self.session
        while session is not None:
            error = ""
            try:
                save_session(session, self.saver.folder)
            except (OSError, ImageError) as failure:
                error = str(failure) or type(failure).__name__
            session = self.saver._finished_one()
            try:
                self.signals.done.emit(error)
            except RuntimeError:  # the receiver was deleted: the window is gone
                pass


class Autosaver(QObject):
    failed = Signal(str)  # one line: why the autosave could not be written

    def __init__(self, folder: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._owner = None
        if folder is None:
            folder, self._owner = claim_autosave_folder()
        self.folder = folder
        # Python-owned, not a Qt child: its destructor waits for a write in progress.
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)
        self._lock = threading.Lock()
        self._busy = False
        self._pending: Session | None = None
        self._closed = False
        self._discard = False
        self.saves = 0  # written so far (tests, the status bar)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._busy

    def save(self, session: Session) -> None:
        """Write `session` soon; never waits for the disk."""
        with self._lock:
            if self._closed:
                return
            if self._busy:
                self._pending = session  # the newest wins; older waiting ones are dropped
                return
            self._busy = True
        task = _SaveTask(self, session)
        task.signals.done.connect(self._on_done)
        self._pool.start(task)

    def wait(self, msecs: int = 30_000) -> bool:
        """Wait until nothing is being written (tests; the close path)."""
        self._pool.waitForDone(msecs)
        return not self.busy

    def close(self, discard: bool, wait_ms: int = CLOSE_WAIT_MS) -> None:
        """Stop taking saves; with `discard`, remove the autosave once nothing writes it.
        Without, a save still waiting is written (the window's last picture).

        A save still running after `wait_ms` finishes in its thread and then discards
        (when asked): closing the window never waits long on the disk.
        """
        with self._lock:
            self._closed, self._discard = True, discard
            if discard:
                self._pending = None
        self._pool.waitForDone(wait_ms)
        with self._lock:
            busy = self._busy
        if discard and not busy:  # else the task discards when it is done
            discard_session(self.folder)
        if self._owner is not None:  # a later window may have the folder (and its session)
            self._owner.release()
            self._owner = None

    def _finished_one(self) -> Session | None:
        """Called by the task after each write: the next session to write, if any."""
        with self._lock:
            self.saves += 1
            session, self._pending = self._pending, None
            if session is None or (self._closed and self._discard):
                self._busy = False
                if self._closed and self._discard:
                    discard_session(self.folder)
                return None
            return session

    @Slot(str)
    def _on_done(self, error: str) -> None:
        if error:
            self.failed.emit(error)
