"""The GUI's one state object. Widgets read it and call its methods; only it talks to
the worker. Each piece of state has its own changed-signal.

It is made of parts, each in its own file: the photo, paintings and recent files
(gui/inputs_state.py), the settings, presets, undo and model choice
(gui/run_settings_state.py) and the results, snapshots and session
(gui/results_state.py); the dropped images (gui/sources.py), the run's status and rate
(gui/run_status.py) and autosave and restore (gui/session_keeper.py) live beside it.
What the window edits is `settings`; what actually ran comes back with each step report
(`run_settings`), and that is what a saved picture carries."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot

from engine.images import ImageError, load_image
from engine.model_choice import ModelChoice
from engine.presets import preset_names
from engine.run import StepReport
from engine.session import Session
from engine.settings import LIVE_FIELDS, SPECS, RunSettings, with_size
from gui.inputs_state import InputsPart
from gui.preferences import Preferences
from gui.results_state import ResultsPart, Snapshot
from gui.run_settings_state import GUI_DEFAULTS, RunSettingsPart, saved_settings
from gui.run_status import RateMeter, RunStatus, elapsed_text
from gui.session_keeper import SessionKeeper
from gui.sources import SourceImage, thumbnail
from gui.worker import EngineWorker, NetworkLoader, RunRequest, WorkerThread

log = logging.getLogger(__name__)
SHUTDOWN_WAIT_MS = 10_000
IDLE, RUNNING, PAUSING, PAUSED, STOPPING = RunStatus  # the names the views compare with
__all__ = ["AppState", "SourceImage", "Snapshot", "GUI_DEFAULTS", "elapsed_text"]


class AppState(InputsPart, RunSettingsPart, ResultsPart, QObject):
    settingsChanged = Signal(object)
    undoChanged = Signal()  # what Undo and Redo would do changed
    runFinished = Signal(str)  # a run went to its end: what to tell the artist
    contentChanged = Signal()
    stylesChanged = Signal()
    statusChanged = Signal(str)
    # What the canvas shows, newest frame or a snapshot: an (H, W, 3) uint8 RGB array.
    displayChanged = Signal(object)
    progressChanged = Signal(object)  # StepReport
    lossesAppended = Signal(object)  # list of (iteration, content, style)
    historyCleared = Signal()
    snapshotsChanged = Signal()
    deviceChanged = Signal(str)
    recentChanged = Signal()  # File ▸ Open Recent's list changed
    modelsChanged = Signal()  # the installed models, or the chosen one, changed
    message = Signal(str, str)  # level ("info", "error", "oom"), text
    needsWeights = Signal(str)
    sessionOffered = Signal(object)  # an autosaved Session found at launch
    settingsOffered = Signal(str, bool)  # a picture's settings: text, whether usable
    weightsReady = Signal(str)
    weightsFailed = Signal(str)
    downloadProgress = Signal(object)
    # to the worker (queued across threads)
    runRequested = Signal(object)
    downloadRequested = Signal(str)
    importRequested = Signal(str, str)  # path, catalogue model ("": the file says)

    def __init__(
        self, load_network: NetworkLoader, preferences: Preferences, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.preferences = preferences
        self.settings = saved_settings(preferences).replace(style_blend=())  # no paintings yet
        # The preset the settings came from; shown as "<name> (modified)" after a change.
        saved_preset = preferences.get("preset")
        self.preset: str | None = saved_preset if saved_preset in preset_names() else None
        self.undo_stack: list[RunSettings] = []  # earlier settings, newest last
        self.redo_stack: list[RunSettings] = []
        self.finished_text = ""  # "Finished: …" once a run went to its end, until the next
        self.run_settings: RunSettings | None = None  # what the engine ran, newest step's
        self.content: SourceImage | None = None
        self.styles: list[SourceImage] = []
        self.status = RunStatus.IDLE
        self.regions: tuple = ()  # painted in Regions mode (gui/region_overlay.py)
        self.device_name = "detecting…"
        # The catalogue's models and the chosen installed one (None: none is installed).
        self.models: list[ModelChoice] = []
        self.model: str | None = None
        self.refresh_models()
        self.report: StepReport | None = None
        self.start_step = 0  # the step the current or last run started from
        self._saved_report: StepReport | None = None  # the report of the last saved picture
        self._rate = RateMeter()
        self.frame: np.ndarray | None = None  # the newest picture, (H, W, 3) uint8 RGB
        self.snapshots: list[Snapshot] = []
        self.viewing: int | None = None  # index of the snapshot on the canvas, None: live
        self._init_image: Image.Image | None = None
        self._shut_down = False
        self.offered_settings: RunSettings | None = None  # a picture's, given to Load preset
        self.offered_preprocessing: str | None = None  # and its model's preprocessing
        self.resume_image: Image.Image | None = None  # a restored session's latest image
        self.resume_step = 0  # and the step it was taken at
        self.sessions = SessionKeeper(self.session, self._newest_frame, parent=self)
        self.sessions.offered.connect(self.sessionOffered)
        self.sessions.warning.connect(self._on_warning)
        self.autosaver = self.sessions.autosaver

        self.thread = WorkerThread(self)
        self.worker = EngineWorker(load_network)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.probe)
        self.thread.finished.connect(self.worker.deleteLater)
        self.runRequested.connect(self.worker.run)
        self.downloadRequested.connect(self.worker.download_weights)
        self.importRequested.connect(self.worker.import_weights)
        self.worker.deviceDetected.connect(self._on_device)
        self.worker.runStarted.connect(self._on_run_started)
        self.worker.frameReady.connect(self._on_frame)
        self.worker.snapshotTaken.connect(self._on_snapshot)
        self.worker.pausedAt.connect(self._on_paused)
        self.worker.resumed.connect(self._on_resumed)
        self.worker.notice.connect(self._on_notice)
        self.worker.failed.connect(self._on_failed)
        self.worker.runEnded.connect(self._on_run_ended)
        self.worker.needsWeights.connect(self.needsWeights)
        self.worker.weightsReady.connect(self._on_weights_ready)
        self.worker.weightsFailed.connect(self.weightsFailed)
        self.worker.downloadProgress.connect(self.downloadProgress)
        self.thread.start()

    @property
    def active(self) -> bool:
        return self.status != RunStatus.IDLE

    @property
    def rate(self) -> float:
        """Steps per second of the current or last run."""
        return self._rate.rate

    @property
    def pending_session(self) -> Session | None:
        return self.sessions.pending

    # --- running ---------------------------------------------------------------------------

    def set_regions(self, regions: tuple) -> None:
        """Where each style goes; a run going on (or paused) takes them at its next step."""
        self.regions = tuple(regions)
        if self.active:
            self.worker.update_regions(self.regions)

    def can_start(self) -> bool:
        return not self.active and self.content is not None and bool(self.styles)

    def start(self, init_image: Image.Image | None = None, from_step: int = 0) -> bool:
        """Start a run; with `from_step`, go on from `init_image` taken at that step."""
        if self.active:
            return False
        if self.content is None or not self.styles:
            self.message.emit("error", "Drop a photo and at least one painting first.")
            return False
        if self.model is None:
            self.refresh_models()  # installed from the command line while the window was open?
        settings = self.settings
        if init_image is None and self.resume_image is not None:
            # Start after a restore goes on from its image, and from its step unless that
            # was the end (then a new run starts from the picture): the counter, the time
            # left and the next autosave go on from there.
            init_image = self.resume_image
            if self.resume_step < settings.steps * len(settings.sizes):
                from_step = self.resume_step
        if from_step >= settings.steps * len(settings.sizes):
            self.message.emit("info", f"Step {from_step} is the end of the run: raise Steps "
                              "per scale to go on from it.")  # fmt: skip
            return False
        if init_image is None and settings.init not in ("content", "noise"):
            init_image = self._load(settings.init)  # a preset may name an init image file
            if init_image is None:
                return False
        self.resume_image = None
        self._init_image = init_image
        if init_image is not None and settings.init in ("content", "noise"):
            settings = settings.replace(init="snapshot")
        request = RunRequest(self.content.image, [s.image for s in self.styles], settings,
                             init_image, model=self.model, start_step=from_step,
                             regions=self.regions)  # fmt: skip
        self.report, self._rate = None, RateMeter()
        self.start_step, self.viewing = from_step, None
        self._keep_snapshots_to(from_step)  # none for a fresh run
        if not from_step:
            self.historyCleared.emit()
        self.worker.reset_commands()
        self.finished_text = ""
        self.sessions.run_started()
        self._set_status(RunStatus.RUNNING)
        self.runRequested.emit(request)
        return True

    @Slot()
    def toggle_pause(self) -> None:
        if self.status in (RUNNING,):
            self.worker.pause()
            self._set_status(PAUSING)
        elif self.status in (PAUSED, PAUSING):
            self.worker.resume()
            self._set_status(RUNNING)

    @Slot()
    def stop(self) -> None:
        if self.status in (RUNNING, PAUSING, PAUSED):
            self.worker.stop()
            self._set_status(STOPPING)

    def can_continue_larger(self) -> bool:
        """After a run made a picture (cheap: the views ask at every status change)."""
        has_picture = self.frame is not None or self.viewing is not None
        return not self.active and self.report is not None and has_picture

    def continue_larger(self) -> bool:
        """After a run: a new run at twice the size, one scale, starting from the picture
        on the canvas (the engine optimises it at the new size, as any init image)."""
        if not self.can_continue_larger():
            self.message.emit("info", "Continue at 2× size comes after a run has made a picture.")
            return False
        image = self.result_image()
        size, largest = 2 * max(image.size), SPECS["size"].window[1]
        if size > largest:
            self.message.emit("info", f"{size} px is beyond the largest output size "
                              f"({largest:.0f} px).")  # fmt: skip
            return False
        if not self.set_settings(size=size, scales=()):
            return False
        return self.start(init_image=image)

    def retry(self, **changes) -> None:
        """After a failure: start again with some settings changed (smaller size, CPU)."""
        if "size" in changes:  # the same coarse-to-fine ladder at the new size
            changes["scales"] = with_size(self.settings, changes["size"]).scales
        init = self._init_image
        if self.frame is not None and self.report is not None:
            init = Image.fromarray(self.frame, "RGB")  # go on from the last good image
        if self.set_settings(**changes):
            self.start(init)

    # --- weights -----------------------------------------------------------------------------

    def download_weights(self, name: str) -> None:
        self.worker.prepare_download()
        self.downloadRequested.emit(name)

    def cancel_download(self) -> None:
        self.worker.cancel_download()

    def import_weights(self, path: str, model: str = "") -> None:
        """Import `path` as catalogue model `model` ("": its hash or shapes pick the model)."""
        self.importRequested.emit(path, model)

    @Slot(str)
    def _on_weights_ready(self, name: str) -> None:
        # What was just downloaded or imported is what the user means to run.
        self.refresh_models()
        self.set_model(name)
        self.weightsReady.emit(name)

    # --- shutdown -----------------------------------------------------------------------------

    def shutdown(self, discard: bool = False) -> None:
        """The one way out, for closeEvent and aboutToQuit alike; safe to call twice.
        The session is kept for the next launch to offer, unless `discard`."""
        if self._shut_down:
            return
        self.preferences.set("settings", self.settings.to_dict())
        self.preferences.save()
        self.worker.stop()
        self.thread.quit()
        # A step is short, so this wait is brief; it keeps Qt from destroying a live thread.
        if not self.thread.wait(SHUTDOWN_WAIT_MS):
            log.warning("the engine thread did not stop in %d ms", SHUTDOWN_WAIT_MS)
        if not discard:
            self._on_frame()  # the last picture, if the GUI has not taken it yet
        self._shut_down = True
        self.sessions.close(discard=discard)

    # --- from the worker ------------------------------------------------------------------------

    @Slot(str)
    def _on_device(self, name: str) -> None:
        self.device_name = name
        self.deviceChanged.emit(name)

    @Slot(object)
    def _on_run_started(self, settings: RunSettings) -> None:
        self.run_settings = settings

    @Slot()
    def _on_frame(self) -> None:
        frame = self.worker.take_frame()
        if frame is None:
            return
        self.frame = frame.array
        if frame.report is not None and frame.report.settings is not None:
            self._follow_the_engine(frame.report.settings, frame.settled)
        if frame.history:
            self.lossesAppended.emit(frame.history)
        if frame.report is not None and frame.report is not self.report:
            self._on_report(frame.report)
        if self.viewing is None:
            self.displayChanged.emit(frame.array)

    def _follow_the_engine(self, ran: RunSettings, settled: bool) -> None:
        """The engine is the authority on what runs. With no change of ours on its way, a
        live field that differs is the engine's own doing (a rollback lowers the learning
        rate): the window shows it, and the next save and autosave carry it."""
        self.run_settings = ran
        ours = {key: getattr(ran, key) for key in LIVE_FIELDS
                if getattr(ran, key) != getattr(self.settings, key)}  # fmt: skip
        if settled and ours:
            self._use_settings(self.settings.replace(**ours), send=False, record=False)

    def _on_report(self, report: StepReport) -> None:
        self.report = report
        self._rate.add(report)
        self.progressChanged.emit(report)

    @Slot(int, object, object)
    def _on_snapshot(self, iteration: int, image: Image.Image, made_by: RunSettings) -> None:
        # After "Continue from here" the count goes back: later snapshots give way.
        self.snapshots = [snap for snap in self.snapshots if snap.iteration < iteration]
        self.snapshots.append(Snapshot(iteration, image, thumbnail(image), made_by))
        self.snapshotsChanged.emit()
        self.autosave()

    @Slot(int)
    def _on_paused(self, iteration: int) -> None:
        if self.status == PAUSING:
            self._set_status(PAUSED)

    @Slot()
    def _on_resumed(self) -> None:
        # toggle_pause already shows "running" when it resumes. A resume signal that
        # arrives after the user paused again is stale: acting on it would show "running"
        # while the worker sleeps paused (measured: a quick Space after a resume).
        if self.status == PAUSED and not self.worker.paused:
            self._set_status(RUNNING)

    @Slot(str)
    def _on_notice(self, text: str) -> None:
        self.message.emit("info", text)

    @Slot(str, str)
    def _on_failed(self, kind: str, text: str) -> None:
        self.message.emit("oom" if kind == "oom" else "error", text)

    @Slot(str)
    def _on_run_ended(self, reason: str) -> None:
        self._on_frame()  # the last frame, if the GUI has not taken it yet
        finished = reason == "done" and self.report is not None
        if finished:  # before the status: the views that follow it show this text
            (width, height), took = self.report.size, elapsed_text(self.report.seconds)
            self.finished_text = (f"Finished: {self.report.iteration} steps in {took}, "
                                  f"{width} × {height} px.")  # fmt: skip
        self._set_status(RunStatus.IDLE)
        self.sessions.run_ended()
        if finished:
            self.message.emit("info", self.finished_text)
            self.runFinished.emit(self.finished_text)

    # --- helpers ------------------------------------------------------------------------

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.statusChanged.emit(status)

    def _load(self, path: str) -> Image.Image | None:
        try:
            return load_image(path)
        except ImageError as error:
            self.message.emit("error", str(error))
            return None

    def _remember_folder(self, key: str, path: str) -> None:
        self.preferences.set(key, str(Path(path).resolve().parent))
