"""The window's one adapter to the engine's batch API (engine/batch.py): a QObject on its own
QThread, so reading the inputs and weights, connecting to Ray and every run happen off the
GUI thread. The GUI thread only builds the spec (pure: nothing read but settings) and sets
the stop event; progress comes back as queued signals.

The window's pictures have no files of their own (a pasted photo, a restored session), so
the batch's inputs are written as PNGs into a private folder, removed when the batch ends;
"Render at size" saves the session there and expands it, as `impasto batch --from-session`.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from engine import cluster  # Ray itself is imported only when a batch connects
from engine.batch import (
    BatchResult,
    LocalRunner,
    Progress,
    RunRecord,
    check_output_folder,
    run_batch,  # fmt: skip
)
from engine.batch_inputs import BatchError, read_inputs, read_weights
from engine.batch_spec import BatchSpec, BatchSpecError, expand, spec_for
from engine.cluster import ClusterError
from engine.images import ImageError, save_image
from engine.session import Session, save_session
from engine.settings import RunSettings
from engine.vgg import WeightsError
from gui.worker import WorkerThread

CONTENT_FILE = "photo.png"


def ray_missing() -> str:
    """Why the cluster cannot be used from here ("": Ray is installed)."""
    if importlib.util.find_spec("ray") is None:
        return "Ray is not installed (pip install 'impasto[cluster]')"
    return ""


def style_files(count: int) -> list[str]:
    return [f"painting-{number}.png" for number in range(1, count + 1)]


def plan_variations(settings: RunSettings, styles: int, grid: dict[str, list],
                    inputs: Path, preprocessing: str | None = None) -> BatchSpec:  # fmt: skip
    """The runs a grid makes around `settings`, checked (BatchSpecError, one line) before
    anything is written or run. The pictures are named as `write_inputs` will write them.
    `preprocessing` with the settings' network names the window's model (vgg16-caffe)."""
    spec = spec_for(settings, CONTENT_FILE, style_files(styles), grid)
    if preprocessing is not None:
        spec["preprocessing"] = preprocessing
    return expand(spec, inputs)


@dataclass
class BatchRequest:
    """One batch for the worker: a planned spec and the pictures to write as its inputs,
    or a session to render at `size`."""

    output: Path
    inputs: Path  # the private folder for the inputs (removed at the end)
    address: str | None = None  # a Ray address; None: this computer
    spec: BatchSpec | None = None
    content: Image.Image | None = None
    styles: list[Image.Image] = field(default_factory=list)
    session: Session | None = None
    size: int = 0


class BatchWorker(QObject):
    progressed = Signal(object)  # engine.batch.Progress
    runFinished = Signal(object, str)  # RunRecord, the picture's path ("" unless done)
    finished = Signal(object)  # BatchResult
    failed = Signal(str)  # one line, for a message

    def __init__(self):
        super().__init__()
        self.stop = threading.Event()
        self._output = Path()

    def cancel(self) -> None:
        """Any thread: the runs not finished are stopped (a local one between two steps)."""
        self.stop.set()

    @Slot(object)
    def run(self, request: BatchRequest) -> None:
        self._output = request.output
        made_folder = not request.output.exists()
        connected = False
        try:
            spec = self._spec(request)
            check_output_folder(spec, request.output)
            inputs, weights = read_inputs(spec), read_weights(spec)
            if request.address is None:
                runner = LocalRunner(weights, inputs)
            else:
                connected = cluster.connect(request.address)
                runner = cluster.RayRunner(weights, inputs)
            result = run_batch(spec, runner, request.output, stop=self.stop,
                               on_progress=self._on_progress)  # fmt: skip
        except (BatchSpecError, BatchError, WeightsError, ClusterError, ImageError,
                OSError) as error:  # fmt: skip
            _remove_if_empty(request.output, made_folder)
            self.failed.emit(_one_line(error))
        except Exception as error:  # anything else: a message, not a crash or a traceback
            _remove_if_empty(request.output, made_folder)
            self.failed.emit(f"{type(error).__name__}: {_one_line(error)}")
        else:
            self.finished.emit(result)
        finally:
            if connected:
                cluster.disconnect()
            shutil.rmtree(request.inputs, ignore_errors=True)

    def _spec(self, request: BatchRequest) -> BatchSpec:
        request.inputs.mkdir(parents=True, exist_ok=True)
        if request.session is not None:
            folder = save_session(request.session, request.inputs / "session")
            return expand({"session": str(folder), "size": request.size}, Path("."))
        save_image(request.content, request.inputs / CONTENT_FILE)
        for image, name in zip(request.styles, style_files(len(request.styles)), strict=True):
            save_image(image, request.inputs / name)
        return request.spec

    def _on_progress(self, progress: Progress, record: RunRecord | None) -> None:
        self.progressed.emit(progress)
        if record is not None:
            path = self._output / f"{record.job.name}.png" if record.status == "done" else ""
            self.runFinished.emit(record, str(path))


class BatchThread(QObject):
    """The worker and its thread, for one dialog: `start(request)` runs a batch, `cancel()`
    stops it, `shutdown()` stops and waits (the dialog's close)."""

    requested = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.thread = WorkerThread(self)
        self.thread.setObjectName("impasto-batch")
        self.worker = BatchWorker()
        self.worker.moveToThread(self.thread)
        self.thread.finished.connect(self.worker.deleteLater)
        self.requested.connect(self.worker.run)
        self.thread.start()

    def start(self, request: BatchRequest) -> None:
        self.worker.stop.clear()
        self.requested.emit(request)

    def cancel(self) -> None:
        self.worker.cancel()

    def shutdown(self, wait_ms: int = 30_000) -> None:
        self.worker.cancel()
        self.thread.quit()
        if not self.thread.wait(wait_ms):
            # Still connecting to a cluster, say: destroyed running (with its dialog) it
            # would abort the program, so the application owns it until it ends.
            self.thread.setParent(QCoreApplication.instance())
            self.thread.finished.connect(self.thread.deleteLater)


def _remove_if_empty(folder: Path, made: bool) -> None:
    """A batch that failed before writing anything leaves no empty folder it made."""
    if made:
        try:
            folder.rmdir()  # only an empty one
        except OSError:
            pass


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def private_folder() -> Path:
    """A fresh folder for a batch's inputs."""
    return Path(tempfile.mkdtemp(prefix="impasto-batch-"))


__all__ = ["BatchRequest", "BatchResult", "BatchThread", "plan_variations", "ray_missing"]
