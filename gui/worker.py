"""The one adapter between Qt and the engine: a QObject living in one long-lived QThread.

The thread owns the torch device for the life of the window. A run happens inside the
`run` slot, one engine step at a time. Commands (pause, resume, stop, new weights,
restore) are plain method calls from the GUI thread that only touch a condition
variable and a queue, so they never wait on the engine; the loop reads them between
steps. While paused, the loop sleeps on the condition: no busy waiting.

Previews go through a one-frame mailbox: the worker overwrites the newest frame and
signals only when the GUI has taken the last one, so stale frames are dropped and the
GUI is never flooded. Frames are sent at most ~20 times a second.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from PySide6.QtCore import QObject, QThread, Signal, Slot
from shiboken6 import isValid

from engine.device import (
    describe_device,
    describe_precision,
    is_out_of_memory,
    pick_device,
    release_memory,
)
from engine.images import ImageError, resize_longest
from engine.run import Network, RunOutOfMemory, RunStalled, StepReport, StyleTransfer
from engine.settings import RunSettings
from engine.vgg import WeightsError

FRAME_INTERVAL = 0.05  # seconds: at most ~20 previews a second
PREVIEW_MAX_SIDE = 4096  # previews are the full image; also what Save writes mid-run

NetworkProvider = Callable[[], Network]  # one fixed network, whatever model is chosen
# The network of a catalogue model (engine/models.json) by name; None: the catalogue default.
NetworkLoader = Callable[[str | None], Network]

_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def live_threads() -> list[QThread]:
    """Engine threads still running (tests check that none are left behind). One that Qt
    deleted with its window (whose Python wrapper lingers) is not running."""
    return [thread for thread in list(_threads) if isValid(thread) and thread.isRunning()]


@dataclass
class RunRequest:
    content: Image.Image
    styles: list[Image.Image]
    settings: RunSettings
    init_image: Image.Image | None = None
    model: str | None = None  # the catalogue model to run; None: the loader's default
    start_step: int = 0  # going on from init_image, taken at this step of the same settings
    regions: tuple = ()  # engine.regions.Region: where each style goes; none: everywhere


class FixedNetwork:
    """A NetworkLoader that gives one network for any model (tests and tools)."""

    def __init__(self, provider: NetworkProvider):
        self.provider = provider

    def __call__(self, model: str | None = None) -> Network:
        return self.provider()


@dataclass
class Frame:
    report: StepReport | None
    array: np.ndarray  # (H, W, 3) uint8, a detached copy
    history: list[tuple[int, float, float]] = field(default_factory=list)  # (it, content, style)
    # No live change is on its way to the run: the report's settings are all in force, so
    # any difference from the window's is the engine's own (a rollback's learning rate).
    settled: bool = True


class EngineWorker(QObject):
    deviceDetected = Signal(str)  # "CPU (2 threads)" / GPU name
    runStarted = Signal(object)  # RunSettings actually used
    frameReady = Signal()  # take it with take_frame()
    snapshotTaken = Signal(int, object, object)  # iteration, PIL image, RunSettings that made it
    pausedAt = Signal(int)
    resumed = Signal()
    notice = Signal(str)
    failed = Signal(str, str)  # kind ("oom", "input", "error"), message
    runEnded = Signal(str)  # "done", "stopped", "failed", "no-weights"
    needsWeights = Signal(str)
    downloadProgress = Signal(object)  # the weights manager's ProgressInfo
    weightsReady = Signal(str)
    weightsFailed = Signal(str)

    def __init__(self, load_network: NetworkLoader):
        super().__init__()
        self._load_network = load_network
        self._network: Network | None = None
        self._network_model: str | None = None  # the model name self._network was loaded for
        self._cond = threading.Condition()
        self._paused = False
        self._resumes = 0  # counts resume() calls: a resume is seen even if a pause follows
        self._stopping = False
        self._commands: deque[tuple[str, object]] = deque()
        self._updates_asked = self._updates_done = 0  # live changes sent, and applied
        self._frame_lock = threading.Lock()
        self._frame: Frame | None = None
        self._history: list[tuple[int, float, float]] = []
        self._frame_waiting = False
        self._cancel_download = threading.Event()
        self.run_settings: RunSettings | None = None  # read-only outside the worker
        self.steps_done = 0  # counts every step taken; read-only outside the worker

    # --- commands: safe to call from any thread, never block on the engine -------------

    @property
    def paused(self) -> bool:
        """Whether a pause is asked for (not whether the loop has reached it yet)."""
        with self._cond:
            return self._paused

    def reset_commands(self) -> None:
        with self._cond:
            self._paused = self._stopping = False
            self._commands.clear()
            self._updates_done = self._updates_asked

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._resumes += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._cancel_download.set()

    def update(self, changes: dict) -> None:
        with self._cond:
            self._updates_asked += 1
            self._commands.append(("update", (self._updates_asked, dict(changes))))
            self._cond.notify_all()

    def restore(self, image: Image.Image, step: int | None = None) -> None:
        """Go on from `image`; with `step`, counting on from that step."""
        self._command("restore", (image, step))

    def update_regions(self, regions: tuple) -> None:
        """New region masks for the run, applied between steps (paused too)."""
        self._command("regions", tuple(regions))

    def cancel_download(self) -> None:
        self._cancel_download.set()

    def prepare_download(self) -> None:
        self._cancel_download.clear()

    def take_frame(self) -> Frame | None:
        """The newest frame, with the loss history of every step since the last take."""
        with self._frame_lock:
            frame, self._frame, self._frame_waiting = self._frame, None, False
            if frame is not None:
                frame.history, self._history = self._history, []
            return frame

    def _command(self, name: str, value: object) -> None:
        with self._cond:
            self._commands.append((name, value))
            self._cond.notify_all()

    # --- slots: run in the worker thread -----------------------------------------------

    @Slot()
    def probe(self) -> None:
        torch.set_grad_enabled(False)  # grad mode is per thread; the engine enables it per step
        # Random or late VGG activations go denormal on CPUs, which is many times slower.
        torch.set_flush_denormal(True)
        try:
            device = pick_device("auto")
            self.deviceDetected.emit(f"{describe_device(device)}, {describe_precision(device)}")
        except Exception as error:  # a broken driver must not stop the window
            self.deviceDetected.emit(f"CPU (device check failed: {error})")

    @Slot(object)
    def run(self, request: RunRequest) -> None:
        try:
            network = self._get_network(request.model)
        except WeightsError as error:
            self.needsWeights.emit(str(error))
            self.runEnded.emit("no-weights")
            return
        run, reason, device = None, "done", None
        try:
            settings = request.settings
            if settings.model != network.arch:
                settings = settings.replace(model=network.arch)
            device = pick_device(settings.device)
            self._publish_start(request)
            run = StyleTransfer(request.content, request.styles, settings, network,
                                device=device, init_image=request.init_image,
                                start_step=request.start_step,
                                regions=request.regions)  # fmt: skip
            self.run_settings = run.settings
            self.runStarted.emit(run.settings)
            # What runs, not what was asked: "auto" is mixed only where bfloat16 units are.
            running = describe_precision(run.device, run.precision)
            self.deviceDetected.emit(f"{describe_device(run.device)}, {running}")
            if settings.precision == "mixed" and run.precision != "mixed":
                self.notice.emit("Mixed precision is not available on this device: "
                                 "running in full precision.")  # fmt: skip
            self._publish(run, None, force=True)
            reason = self._loop(run)
        except Exception as error:
            reason = "failed"
            if isinstance(error, (RunOutOfMemory, RunStalled)):
                self._show_last_good(run)
            self.failed.emit(*_classify(error))
        finally:
            if run is not None:
                run.close()
            elif device is not None:
                release_memory(device)
            self.runEnded.emit(reason)

    @Slot(str)
    def download_weights(self, name: str) -> None:
        from engine.weights_download import DownloadCancelled, download

        last = [0.0]

        def progress(info) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1:
                last[0] = now
                self.downloadProgress.emit(info)

        try:
            download(name, progress=progress, cancel=self._cancel_download)
        except Exception as error:
            cancelled = isinstance(error, DownloadCancelled)
            self.weightsFailed.emit("Download cancelled." if cancelled else str(error))
            return
        self._network = None
        self.weightsReady.emit(name)

    @Slot(str, str)
    def import_weights(self, path: str, model: str) -> None:
        """Import `path` as catalogue model `model` ("": let the file's hash or shapes say)."""
        from engine.model_choice import import_as

        try:
            installed = import_as(path, model or None)
        except Exception as error:
            self.weightsFailed.emit(str(error))
            return
        self._network = None
        self.weightsReady.emit(installed.spec.name)

    # --- the loop ------------------------------------------------------------------------

    def _loop(self, run: StyleTransfer) -> str:
        while True:
            with self._cond:
                commands = list(self._commands)
                self._commands.clear()
                stopping, paused = self._stopping, self._paused
            self._apply(run, commands)
            if stopping:
                self._publish(run, None, force=True)
                return "stopped"
            if run.done:
                return "done"
            if paused:
                self._wait_while_paused(run)
                continue
            report = run.step()
            self.steps_done += 1
            if report.message:
                self.notice.emit(report.message)
            with self._frame_lock:
                losses = report.losses
                self._history.append((report.iteration, losses["content"], losses["style"]))
            every = run.settings.snapshot_every
            if every and report.iteration % every == 0:
                self._snapshot(run, report.iteration)
            self._publish(run, report, force=run.done)

    def _wait_while_paused(self, run: StyleTransfer) -> None:
        self._publish(run, None, force=True)
        self.pausedAt.emit(run.iteration)
        with self._cond:
            # Sleep until resumed, stopped or given a command; never spin. A resume and
            # a pause in quick succession must still wake us: the loop then pauses again
            # and says so, or the window would wait for "paused" forever.
            seen = self._resumes
            while (self._paused and not self._stopping and not self._commands
                   and self._resumes == seen):  # fmt: skip
                self._cond.wait()
            woke_by_resume = self._resumes != seen
        if woke_by_resume:
            self.resumed.emit()

    def _apply(self, run: StyleTransfer, commands: list[tuple[str, object]]) -> None:
        for name, value in commands:
            try:
                if name == "update":
                    number, changes = value
                    with self._cond:
                        self._updates_done = number  # applied, or refused: not on its way
                    run.update(**changes)
                    self.run_settings = run.settings
                elif name == "regions":
                    run.update_regions(value)
                elif name == "restore":
                    run.restore(*value)
                    self._publish(run, None, force=True)
            except ValueError as error:
                self.failed.emit("input", str(error))
        if commands and self._paused:
            self.pausedAt.emit(run.iteration)

    def _publish(self, run: StyleTransfer, report: StepReport | None, force: bool) -> None:
        now = time.monotonic()
        if not force and now - getattr(self, "_last_frame", 0.0) < FRAME_INTERVAL:
            return
        self._last_frame = now
        array = run.preview(PREVIEW_MAX_SIDE)
        with self._cond:
            settled = self._updates_done == self._updates_asked
        self._offer(Frame(report, array, settled=settled))

    def _publish_start(self, request: RunRequest) -> None:
        """Show the picture the run starts from at once: building the run (the content and
        style targets) takes seconds on a CPU, and the canvas should not wait for it."""
        settings = request.settings
        if settings.init == "noise":
            return
        source = request.init_image or request.content
        array = np.asarray(resize_longest(source, settings.sizes[0]).convert("RGB")).copy()
        self._offer(Frame(None, array))

    def _offer(self, frame: Frame) -> None:
        """Put `frame` in the one-frame mailbox (newest wins); signal if the GUI is idle."""
        report = frame.report
        with self._frame_lock:
            if report is None and self._frame is not None:
                frame.report = self._frame.report  # keep the newest report with the frame
            self._frame = frame
            notify = not self._frame_waiting
            self._frame_waiting = True
        if notify:
            self.frameReady.emit()

    def _show_last_good(self, run: StyleTransfer | None) -> None:
        """After out of memory the run is back at its last good image: show exactly that
        (the last frame sent may be a few steps older), so it can be saved or continued."""
        if run is None:
            return
        try:
            self._publish(run, None, force=True)
        except Exception:  # reading the image can fail on a device that is still full
            pass

    def _snapshot(self, run: StyleTransfer, iteration: int) -> None:
        self.snapshotTaken.emit(iteration, run.result(), run.settings)

    def _get_network(self, model: str | None) -> Network:
        if self._network is None or self._network_model != model:
            self._network = None  # drop the old one first: two VGGs need not fit at once
            self._network = self._load_network(model)
            self._network_model = model
        return self._network


def _classify(error: Exception) -> tuple[str, str]:
    if is_out_of_memory(error):
        detail = (str(error).strip().splitlines() or [""])[0][:160]
        return "oom", f"Out of memory at this size. ({detail})" if detail else "Out of memory."
    if isinstance(error, ImageError | ValueError):
        return "input", str(error)
    if isinstance(error, RunStalled):
        return "error", f"Stopped: {error}."
    return "error", f"The run failed: {type(error).__name__}: {error}"


class WorkerThread(QThread):
    """The engine's thread. Registered so tests can check none is left running."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName("impasto-engine")
        _threads.add(self)
