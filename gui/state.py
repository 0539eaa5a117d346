"""The GUI's one state object. Widgets read it and call its methods; only it talks to
the worker. Each piece of state has its own changed-signal.

Its parts live beside it: the dropped images (gui/sources.py), the run's status and rate
(gui/run_status.py), autosave and restore (gui/session_keeper.py). The settings are
the engine's RunSettings, one copy: what the window edits; what actually ran comes back
with each step report (`run_settings`), and that is what a saved picture carries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from engine.files import describe_os_error, write_atomically
from engine.images import ImageError, load_image, save_image
from engine.model_choice import ModelChoice, model_choices, pick_model
from engine.presets import apply_preset, matching_preset, preset_names
from engine.run import StepReport
from engine.session import Session, read_json
from engine.settings import LIVE_FIELDS, RunSettings, with_size
from gui.preferences import Preferences
from gui.preset_files import not_a_preset_text, picture_settings
from gui.qimage import pil_to_qimage
from gui.run_status import RateMeter, RunStatus, elapsed_text
from gui.session_keeper import SessionKeeper
from gui.sources import SourceImage, blend_weights, fitted_blend, load_sources, thumbnail
from gui.worker import EngineWorker, NetworkLoader, RunRequest, WorkerThread

log = logging.getLogger(__name__)
SHUTDOWN_WAIT_MS = 10_000
IDLE, RUNNING, PAUSING, PAUSED, STOPPING = RunStatus  # the names the views compare with

# What the window starts with: a good picture on a CPU in a few minutes (and on a GPU in
# seconds). The engine's own defaults (512 px, 300 steps) are the published ones.
# Coarse to fine: the first stylised picture comes at half size, and bench/README.md
# measured it reaching the common quality level in about half the time of one size.
GUI_DEFAULTS = RunSettings(size=384, scales=(192, 384), steps=150, snapshot_every=25)
__all__ = ["AppState", "SourceImage", "Snapshot", "GUI_DEFAULTS", "elapsed_text"]


@dataclass(frozen=True)
class Snapshot:
    iteration: int
    image: Image.Image
    thumbnail: Image.Image
    settings: RunSettings | None = None  # what made it; saved with it


class AppState(QObject):
    settingsChanged = Signal(object)
    contentChanged = Signal()
    stylesChanged = Signal()
    statusChanged = Signal(str)
    displayChanged = Signal(QImage)  # what the canvas shows: newest frame or a snapshot
    progressChanged = Signal(object)  # StepReport
    lossesAppended = Signal(object)  # list of (iteration, content, style)
    historyCleared = Signal()
    snapshotsChanged = Signal()
    deviceChanged = Signal(str)
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
        self.settings = _saved_settings(preferences).replace(style_blend=())  # no paintings yet
        # The preset the settings came from; shown as "<name> (modified)" after a change.
        saved_preset = preferences.get("preset")
        self.preset: str | None = saved_preset if saved_preset in preset_names() else None
        self.run_settings: RunSettings | None = None  # what the engine ran, newest step's
        self.content: SourceImage | None = None
        self.styles: list[SourceImage] = []
        self.status = RunStatus.IDLE
        self.device_name = "detecting…"
        # The catalogue's models and the chosen installed one (None: none is installed).
        self.models: list[ModelChoice] = []
        self.model: str | None = None
        self.refresh_models()
        self.report: StepReport | None = None
        self.start_step = 0  # the step the current or last run started from
        self._saved_report: StepReport | None = None  # the report of the last saved picture
        self._rate = RateMeter()
        self.frame: np.ndarray | None = None
        self.frame_image: QImage | None = None  # the worker's, made off the GUI thread
        self.snapshots: list[Snapshot] = []
        self.viewing: int | None = None  # index of the snapshot on the canvas, None: live
        self._init_image: Image.Image | None = None
        self._shut_down = False
        self.offered_settings: RunSettings | None = None  # a picture's, given to Load preset
        self.resume_image: Image.Image | None = None  # a restored session's latest image
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

    # --- inputs ------------------------------------------------------------------------

    def load_content(self, path: str) -> bool:
        image = self._load(path)
        if image is not None:
            self.set_content_image(image, Path(path).name)
            self._remember_folder("open_folder", path)
        return image is not None

    def set_content_image(self, image: Image.Image, label: str) -> None:
        self.content = SourceImage.from_pil(image, label)
        self.resume_image = None  # a restored image belongs to the old photo
        if not self.active:  # so do the last result and its snapshots: the canvas shows the photo
            self.frame = self.frame_image = self.report = self.viewing = None
            self._keep_snapshots_to(-1)
        self.contentChanged.emit()

    def add_style(self, path: str) -> bool:
        return self.add_styles([path]) == 1

    def add_styles(self, paths: list[str]) -> int:
        """Add several paintings (a drop); the files that fail are named in one message."""
        if self.active:
            self.message.emit("info", "Style images can be added when the run is stopped.")
            return 0
        sources, problems = load_sources(paths)
        for source in sources:
            self._add_source(source)
        if paths and len(problems) < len(paths):
            self._remember_folder("open_folder", paths[-1])
        if len(problems) == 1:
            self.message.emit("error", problems[0])
        elif problems:
            self.message.emit("error", f"{len(problems)} files could not be opened: "
                              + "; ".join(problems))  # fmt: skip
        return len(sources)

    def add_style_image(self, image: Image.Image, label: str) -> None:
        if self.active:
            self.message.emit("info", "Style images can be added when the run is stopped.")
            return
        self._add_source(SourceImage.from_pil(image, label))

    def _add_source(self, source: SourceImage) -> None:
        blend = self.settings.style_blend
        self.styles.append(source)
        if blend:  # the new painting joins at weight 1
            self._use_settings(self.settings.replace(style_blend=(*blend, 1.0)))
        self.stylesChanged.emit()

    def remove_style(self, index: int) -> None:
        if self.active or not 0 <= index < len(self.styles):
            return
        weights = list(self.style_weights())
        del self.styles[index], weights[index]
        self._use_settings(self.settings.replace(style_blend=tuple(weights)))
        self.stylesChanged.emit()

    def style_weights(self) -> tuple[float, ...]:
        """Each painting's blend weight, as its row shows it (the style_blend setting)."""
        return blend_weights(self.settings.style_blend, len(self.styles))

    def set_style_weight(self, index: int, weight: float) -> None:
        weights = list(self.style_weights())
        if not 0 <= index < len(weights) or weights[index] == weight:
            return
        weights[index] = weight
        if sum(weights) <= 0:  # no painting at all: equal weights, as before any was set
            weights = []
        self.set_settings(style_blend=tuple(weights))

    # --- settings ------------------------------------------------------------------------

    def set_settings(self, **changes) -> bool:
        """Change settings; live ones reach a running or paused run at its next step."""
        try:
            settings = self.settings.replace(**changes)
        except (TypeError, ValueError) as error:
            self.message.emit("error", str(error))
            self.settingsChanged.emit(self.settings)  # controls show what is in force again
            return False
        self._use_settings(settings)
        return True

    def apply_preset(self, name: str) -> None:
        """Put a named preset's fields on top of the current settings (weights are kept)."""
        if name not in preset_names():
            return
        self.preset = name
        self.preferences.set("preset", name)
        self._use_settings(apply_preset(self.settings, name))

    def preset_label(self) -> str:
        """ "Smooth", "Smooth (modified)" after a change to a preset's field, or "Custom"."""
        match = matching_preset(self.settings)
        if match is not None:
            return match
        return f"{self.preset} (modified)" if self.preset else "Custom"

    def _use_settings(self, settings: RunSettings, send: bool = True) -> None:
        # A blend saved for another number of paintings does not fit these: equal weights.
        settings = settings.replace(style_blend=fitted_blend(settings.style_blend,
                                                             len(self.styles)))  # fmt: skip
        if settings == self.settings:
            return
        old, self.settings = self.settings, settings
        match = matching_preset(settings)
        if match is not None:
            self.preset = match
            self.preferences.set("preset", match)
        self.settingsChanged.emit(settings)
        if self.style_weights() != blend_weights(old.style_blend, len(self.styles)):
            self.stylesChanged.emit()
        # Only what really changed goes to the run: each update resets L-BFGS's memory.
        live = {key: getattr(settings, key) for key in LIVE_FIELDS
                if getattr(settings, key) != getattr(old, key)}  # fmt: skip
        if send and self.active and live:
            self.worker.update(live)

    def save_preset(self, path: str) -> None:
        try:
            write_atomically(Path(path), self.settings.to_json())
            self._remember_folder("preset_folder", path)
            self.message.emit("info", f"Preset saved to {Path(path).name}.")
        except OSError as error:
            self.message.emit("error", f"{path}: could not save ({describe_os_error(error)})")

    def load_preset(self, path: str) -> bool:
        try:
            # The one data file loader, then every field's rule: a preset that cannot run is
            # refused here, before it reaches the preferences and every later launch. The
            # user's own file is left where it is (it is theirs, not in Impasto's folders).
            settings = RunSettings.from_dict(read_json(Path(path)))
        except (OSError, ValueError) as error:
            offer = picture_settings(path, self.settings)  # an Impasto picture, maybe
            if offer is not None:
                self.offered_settings = offer.settings
                self.settingsOffered.emit(offer.text, offer.settings is not None)
                return False
            reason = str(error).removeprefix(f"{Path(path)}: ")
            self.message.emit("error", not_a_preset_text(path, reason))
            return False
        self._remember_folder("preset_folder", path)
        self._use_settings(settings)
        return True

    def use_offered_settings(self) -> None:
        """ "Use this picture's settings", after Load preset was given an Impasto picture."""
        settings, self.offered_settings = self.offered_settings, None
        if settings is not None:
            self._use_settings(settings)
            self.message.emit("info", "Using the picture's settings.")

    # --- model ---------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """Look again at what is installed (manifests only); keep the choice if it still is."""
        self.models = model_choices()
        self.model = pick_model(self.models, self.model or self.preferences.get("model"))
        self.modelsChanged.emit()

    def set_model(self, name: str) -> bool:
        """Run the installed catalogue model `name` from the next Start; remembered."""
        choice = next((c for c in self.models if c.name == name), None)
        if choice is None or not choice.installed or self.active:
            return False
        if name != self.model:
            self.model = name
            self.preferences.set("model", name)
            self.modelsChanged.emit()
        return True

    # --- running ---------------------------------------------------------------------------

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
        if from_step >= settings.steps * len(settings.sizes):
            self.message.emit("info", f"Step {from_step} is the end of the run: raise Steps "
                              "per scale to go on from it.")  # fmt: skip
            return False
        if init_image is None and settings.init not in ("content", "noise"):
            init_image = self._load(settings.init)  # a preset may name an init image file
            if init_image is None:
                return False
        if init_image is None and self.resume_image is not None:
            init_image = self.resume_image  # Start after a restore goes on from its image
        self.resume_image = None
        self._init_image = init_image
        if init_image is not None and settings.init in ("content", "noise"):
            settings = settings.replace(init="snapshot")
        request = RunRequest(self.content.image, [s.image for s in self.styles], settings,
                             init_image, model=self.model, start_step=from_step)  # fmt: skip
        self.report, self._rate = None, RateMeter()
        self.start_step, self.viewing = from_step, None
        self._keep_snapshots_to(from_step)  # none for a fresh run
        if not from_step:
            self.historyCleared.emit()
        self.worker.reset_commands()
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

    def retry(self, **changes) -> None:
        """After a failure: start again with some settings changed (smaller size, CPU)."""
        if "size" in changes:  # the same coarse-to-fine ladder at the new size
            changes["scales"] = with_size(self.settings, changes["size"]).scales
        init = self._init_image
        if self.frame is not None and self.report is not None:
            init = Image.fromarray(self.frame, "RGB")  # go on from the last good image
        if self.set_settings(**changes):
            self.start(init)

    # --- snapshots and results -------------------------------------------------------------

    def view_snapshot(self, index: int | None) -> None:
        self.viewing = index if index is not None and 0 <= index < len(self.snapshots) else None
        if self.viewing is None:
            if self.frame_image is not None:
                self.displayChanged.emit(self.frame_image)
        else:
            self.displayChanged.emit(pil_to_qimage(self.snapshots[self.viewing].image))

    def restore_snapshot(self, index: int) -> None:
        """Continue from a snapshot, counting on from its step, in the current run or in a
        new one. The history up to it stays; what came after it gives way to the new steps."""
        snapshot = self.snapshots[index]
        if self.active:
            self.worker.restore(snapshot.image, snapshot.iteration)
            self._keep_snapshots_to(snapshot.iteration)
            self.view_snapshot(None)
        else:
            self.start(init_image=snapshot.image, from_step=snapshot.iteration)

    def _keep_snapshots_to(self, step: int) -> None:
        self.snapshots = [snap for snap in self.snapshots if snap.iteration <= step]
        self.snapshotsChanged.emit()

    def result_image(self) -> Image.Image | None:
        """What is on the canvas (newest frame or viewed snapshot) at the output size."""
        if self.viewing is not None:
            image = self.snapshots[self.viewing].image
        elif self.frame is not None:
            image = Image.fromarray(self.frame, "RGB")
        else:
            return None
        size = (self.run_settings or self.settings).size
        if max(image.size) < size:  # a coarse scale of coarse-to-fine: bring it to size
            scale = size / max(image.size)
            new = (round(image.width * scale), round(image.height * scale))
            image = image.resize(new, Image.Resampling.LANCZOS)
        return image

    def unsaved_result(self) -> bool:
        """Whether a run made a picture since the last save (closing asks about it)."""
        return self.report is not None and self.report is not self._saved_report

    def save_result(self, path: str) -> bool:
        image = self.result_image()
        if image is None:
            self.message.emit("error", "Nothing to save yet: start a run first.")
            return False
        # What made this picture, as the engine ran it (a rollback may have lowered the
        # learning rate; a live change may have come since): the viewed snapshot's, else
        # the newest step's.
        made_by = self.snapshots[self.viewing].settings if self.viewing is not None else None
        settings = (made_by or self.run_settings or self.settings).to_dict()
        try:
            save_image(image, path, settings)
        except ImageError as error:
            self.message.emit("error", str(error))
            return False
        self._remember_folder("save_folder", path)
        self._saved_report = self.report
        self.message.emit("info", f"Saved {Path(path).name} ({image.width}×{image.height} px).")
        return True

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

    # --- autosave and restore -------------------------------------------------------------

    def session(self) -> Session | None:
        """Everything needed to pick the work up again, or None before there is any."""
        if self.content is None or not self.styles or self.frame is None:
            return None
        iteration = self.report.iteration if self.report is not None else 0
        latest = Image.fromarray(self.frame.copy(), "RGB")
        if self.snapshots and self.snapshots[-1].iteration >= iteration:
            # A snapshot arrives before the (rate-limited) frame of its step: it is newer.
            iteration, latest = self.snapshots[-1].iteration, self.snapshots[-1].image
        return Session(
            settings=self.settings,
            content=self.content.image,
            styles=[style.image for style in self.styles],
            content_label=self.content.label,
            style_labels=[style.label for style in self.styles],
            iteration=iteration,
            latest=latest,
            snapshots=[(snap.iteration, snap.image) for snap in self.snapshots],
        )

    @Slot()
    def autosave(self) -> None:
        self.sessions.save()

    def _newest_frame(self) -> object:
        return self.frame

    def look_for_session(self) -> None:
        self.sessions.look()

    def restore_session(self) -> bool:
        """Bring back the offered session: inputs, settings, snapshots and latest image.
        Start then goes on from the latest image."""
        session = self.sessions.take_pending()
        if session is None or self.active:
            return False
        labels = [*session.style_labels, *[f"painting {i + 1}" for i in
                                          range(len(session.styles))]]  # fmt: skip
        self.content = SourceImage.from_pil(session.content, session.content_label)
        self.styles = [SourceImage.from_pil(image, labels[i]) for i, image in
                       enumerate(session.styles)]  # fmt: skip
        self._use_settings(session.settings)
        self.snapshots = [Snapshot(n, image, thumbnail(image)) for n, image in session.snapshots]
        self.viewing, self.report, self.run_settings = None, None, None
        latest = session.latest or (self.snapshots[-1].image if self.snapshots else None)
        self.resume_image = latest
        self.contentChanged.emit()
        self.stylesChanged.emit()
        self.snapshotsChanged.emit()
        self.historyCleared.emit()
        if latest is not None:
            self.frame = np.asarray(latest.convert("RGB")).copy()
            self.frame_image = pil_to_qimage(latest)
            self.displayChanged.emit(self.frame_image)
        self.message.emit("info", f"Restored the session at step {session.iteration}: "
                          "Start goes on from this image.")  # fmt: skip
        return True

    def discard_offered_session(self) -> None:
        self.sessions.discard_pending()

    @Slot(str)
    def _on_warning(self, text: str) -> None:
        self.message.emit("warning", text)

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
        self.frame, self.frame_image = frame.array, frame.image
        if frame.report is not None and frame.report.settings is not None:
            self._follow_the_engine(frame.report.settings, frame.settled)
        if frame.history:
            self.lossesAppended.emit(frame.history)
        if frame.report is not None and frame.report is not self.report:
            self._on_report(frame.report)
        if self.viewing is None:
            self.displayChanged.emit(frame.image)

    def _follow_the_engine(self, ran: RunSettings, settled: bool) -> None:
        """The engine is the authority on what runs. With no change of ours on its way, a
        live field that differs is the engine's own doing (a rollback lowers the learning
        rate): the window shows it, and the next save and autosave carry it."""
        self.run_settings = ran
        ours = {key: getattr(ran, key) for key in LIVE_FIELDS
                if getattr(ran, key) != getattr(self.settings, key)}  # fmt: skip
        if settled and ours:
            self._use_settings(self.settings.replace(**ours), send=False)

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
        self._set_status(RunStatus.IDLE)
        self.sessions.run_ended()
        if reason == "done" and self.report is not None:
            self.message.emit("info", f"Finished: {self.report.iteration} steps.")

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


def _saved_settings(preferences: Preferences) -> RunSettings:
    data = preferences.get("settings")
    if isinstance(data, dict):
        try:
            return RunSettings.from_dict(data)
        except ValueError:
            pass
    return GUI_DEFAULTS
