"""Python's cycle collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed.
In Impasto that is usually the engine or autosave thread, and a Qt object freed there
(a closed window's widgets, kept in a cycle by a connected lambda) is destroyed off its
own thread: a segfault. CI saw one, "Garbage-collecting" on the engine thread while it
built the network. So, once a window exists, automatic collection is off and a timer
collects on the GUI thread instead, generation by generation as Python would.

Everything alive at start-up (torch, Qt, the window) is frozen out of the collector
first: a full collection then scans only newer objects, well under a millisecond
instead of about 95 ms for the 200 000 objects torch brings, which would stall the
canvas (measured on the 2-core CI machine).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

CHECK_EVERY_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.freeze()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(CHECK_EVERY_MS)

    def collect_due(self) -> None:
        """Collect the oldest generation whose count is over its threshold, if any."""
        counts = gc.get_count()
        due = [g for g in range(3) if counts[g] > self.thresholds[g]]
        if due:
            gc.collect(max(due))


def collect_on_gui_thread() -> GuiThreadCollector:
    """Install the collector once per application (idempotent); returns it."""
    app = QCoreApplication.instance()
    assert app is not None, "a QApplication must exist"
    collector = app.findChild(GuiThreadCollector)
    return collector if collector is not None else GuiThreadCollector(app)
