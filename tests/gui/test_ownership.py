"""Qt owns the window's objects (issue 13, section 4): a closed window is deleted on the GUI
thread with its state and engine thread, and a thread still busy then is not destroyed
running (Qt aborts the program if it is)."""

from __future__ import annotations

import threading
import time

from shiboken6 import isValid

import gui.state as state_module
from engine.run import StyleTransfer
from gui.app import create_window
from tests.gui.conftest import drop_files

WAIT_MS = 60_000


def _open(qtbot, network, images):
    window = create_window(lambda: network)
    qtbot.addWidget(window)
    window.show()
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    window.state.set_settings(size=32, steps=400, scales=(), snapshot_every=0, optimizer="adam")
    return window


def test_closing_a_window_deletes_it_with_its_state_and_engine_thread(
    qtbot, random_network, images
):
    window = _open(qtbot, random_network, images)
    state, thread = window.state, window.state.thread
    window.close()
    qtbot.waitUntil(lambda: not isValid(window), timeout=5000)  # Qt deleted it, not Python
    assert not isValid(state) and not isValid(thread)


def test_a_step_longer_than_the_close_wait_ends_after_the_window_without_a_crash(
    qtbot, random_network, images, monkeypatch
):
    """Closing waits a while for the engine; a step that takes longer ends after the window
    is gone. Deleted with the window while running, its thread would abort the program."""
    real_step = StyleTransfer.step
    slow, in_slow_step = threading.Event(), threading.Event()

    def step(run):
        if slow.is_set():
            in_slow_step.set()
            time.sleep(1.5)
        return real_step(run)

    monkeypatch.setattr(StyleTransfer, "step", step)
    monkeypatch.setattr(state_module, "SHUTDOWN_WAIT_MS", 100)
    window = _open(qtbot, random_network, images)
    state, thread = window.state, window.state.thread
    assert state.start()
    qtbot.waitUntil(lambda: state.report is not None, timeout=WAIT_MS)
    slow.set()
    assert in_slow_step.wait(10)
    window.close()
    qtbot.waitUntil(lambda: not isValid(window), timeout=5000)
    assert not isValid(state)
    assert thread.isRunning()  # still in its step, kept by the application
    qtbot.waitUntil(lambda: not isValid(thread), timeout=WAIT_MS)  # it ended, then Qt deleted it
