"""Running a batch (engine/batch_spec.py; its inputs, engine/batch_inputs.py): each job
through the ordinary engine, on this machine one after another (`LocalRunner`) or as Ray
tasks (engine/cluster.py).

Workers never write files. Each result comes back to this process as pixels, and is saved
here with the one atomic writer as soon as it arrives, so an output path holds a whole
picture or nothing; the index (index.json) is rewritten the same way after each run, and
the contact sheet at the end. A run that fails is tried once more, then reported with its
error; the other runs go on. Cancelling stops the runs not yet finished.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageOps

from engine import weights_store
from engine.batch_inputs import BatchError, WeightsInfo, network_from_bytes
from engine.batch_spec import BatchSpec, Job
from engine.contact_sheet import contact_sheet
from engine.datafile import DataFileError, load_json
from engine.device import describe_device, is_out_of_memory
from engine.files import SaveError, write_atomically
from engine.images import ImageError, image_from_bytes, keep_unsaved, save_image
from engine.model_choice import installed_model
from engine.outputs import check_outputs
from engine.run import InputTooSmall, StyleTransfer
from engine.terminal import bar
from engine.vgg import WeightsError

INDEX_FILE, SHEET_FILE = "index.json", "contact-sheet.png"
INDEX_VERSION = 1
MAX_INDEX_BYTES = 50_000_000  # 10 000 runs of about 1 kB each, with room
ATTEMPTS = 2  # a failed run is tried once more, then reported


class Cancelled(Exception):
    """The batch was cancelled while this run was under way."""


@dataclass(frozen=True)
class RunOutput:
    """What a worker sends back: the picture as RGB bytes, and how the run went."""

    width: int
    height: int
    pixels: bytes = field(repr=False)
    seconds: float
    losses: dict[str, float]
    device: str

    def image(self) -> Image.Image:
        return Image.frombytes("RGB", (self.width, self.height), self.pixels)


@dataclass(frozen=True)
class Finished:
    """A run back from a runner: its output, or why it failed."""

    index: int
    attempt: int
    output: RunOutput | None
    error: str = ""


@dataclass(frozen=True)
class Progress:
    total: int
    done: int = 0
    running: int = 0  # at most as many as the runner runs at once
    waiting: int = 0  # given to the runner, not started yet
    failed: int = 0
    cancelled: int = 0

    @property
    def line(self) -> str:
        finished = (self.done + self.failed) / max(1, self.total)
        text = f"{bar(finished, 24)} {self.done}/{self.total} done, {self.running} running, "
        # Every count always shown: a redrawn line that got shorter would leave a tail.
        text += f"{self.waiting} waiting, {self.failed} failed"
        return text + (f", {self.cancelled} cancelled" if self.cancelled else "")


@dataclass(frozen=True)
class RunRecord:
    """One run in the index."""

    job: Job
    status: str  # "done", "failed", "cancelled"
    attempts: int = 0
    error: str = ""
    seconds: float = 0.0
    device: str = ""

    def to_data(self) -> dict:
        return {"name": self.job.name, "status": self.status,
                "image": f"{self.job.name}.png" if self.status == "done" else None,
                "attempts": self.attempts, "error": self.error,
                "seconds": round(self.seconds, 3), "device": self.device,
                "differs": dict(self.job.differs), "content": self.job.content,
                "styles": list(self.job.styles),
                "settings": self.job.settings.to_dict()}  # fmt: skip


@dataclass(frozen=True)
class BatchResult:
    records: tuple[RunRecord, ...]
    index: Path
    sheet: Path
    cancelled: bool

    def count(self, status: str) -> int:
        return sum(record.status == status for record in self.records)


class Runner(Protocol):
    """Where the runs run. `submit` hands one over; `finished` waits up to `timeout` s and
    returns those back (maybe none); `cancel` stops every run not back. `slots`: how many
    run at once (for the progress line); `stop`: set to cancel the batch."""

    slots: int
    stop: threading.Event

    def submit(self, job: Job, attempt: int) -> None: ...

    def finished(self, timeout: float) -> list[Finished]: ...

    def cancel(self) -> None: ...


# --- one run ---------------------------------------------------------------------------------


def run_task(job_data: dict, info: WeightsInfo, weights: bytes, content: bytes,
             init: bytes | None, *styles: bytes,
             should_stop: Callable[[], bool] = lambda: False) -> RunOutput:  # fmt: skip
    """One run, from plain data and bytes: the same function here and on a Ray worker."""
    job = Job.from_data(job_data)
    network = network_from_bytes(info, weights)
    run = StyleTransfer(
        image_from_bytes(content, job.content),
        [image_from_bytes(data, label) for data, label in zip(styles, job.styles, strict=True)],
        job.settings,
        network,
        init_image=image_from_bytes(init, job.init) if job.init else None,
    )
    losses: dict[str, float] = {}
    try:
        while not run.done:
            if should_stop():
                raise Cancelled(job.name)
            losses = run.step().losses
        image = run.result()
        return RunOutput(image.width, image.height, image.tobytes(), run.seconds,
                         dict(losses), describe_device(run.device))  # fmt: skip
    finally:
        run.close()


def describe_failure(error: BaseException) -> str:
    """Why a run failed, in one line."""
    if is_out_of_memory(error):
        return f"out of memory ({str(error).splitlines()[0] if str(error) else 'no detail'})"
    text = str(error).strip().splitlines()
    detail = text[0] if text else ""
    if isinstance(error, (ImageError, WeightsError, InputTooSmall, SaveError)):
        return detail
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


class LocalRunner:
    """Runs on this machine, one after another, in this process: no Ray at all."""

    slots = 1

    def __init__(self, weights: dict[str, tuple[WeightsInfo, bytes]], inputs: dict[str, bytes],
                 work: Callable[..., RunOutput] = run_task):  # fmt: skip
        self.weights, self.inputs, self.work = weights, inputs, work
        # Watched between the steps of the run under way (run_batch sets it to its own).
        self.stop = threading.Event()
        self.queue: deque[tuple[Job, int]] = deque()

    def submit(self, job: Job, attempt: int) -> None:
        self.queue.append((job, attempt))

    def finished(self, timeout: float) -> list[Finished]:
        if not self.queue:
            return []
        job, attempt = self.queue.popleft()
        info, data = self.weights[job.settings.model]
        images = self.inputs
        try:
            output = self.work(job.to_data(), info, data, images[job.content],
                               images[job.init] if job.init else None,
                               *(images[s] for s in job.styles),
                               should_stop=self.stop.is_set)  # fmt: skip
        except Cancelled:
            return []
        except Exception as error:
            return [Finished(job.index, attempt, None, describe_failure(error))]
        return [Finished(job.index, attempt, output)]

    def cancel(self) -> None:
        self.queue.clear()


# --- the batch -------------------------------------------------------------------------------


def check_output_folder(spec: BatchSpec, folder: Path) -> None:
    """Make the output folder and refuse outputs that would overwrite a file the batch
    reads (an image, the spec, a preset, a session, the weights) or a file already in the
    folder that no batch wrote: the user's own files there are left untouched."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BatchError(f"{folder}: cannot make the output folder ({error.strerror})") from None
    outputs = {job.name: folder / f"{job.name}.png" for job in spec.jobs}
    outputs.update({"index": folder / INDEX_FILE, "contact sheet": folder / SHEET_FILE})
    inputs = {f"input {label}": path for label, path in spec.inputs.items()}
    inputs.update(spec.files)
    weights = spec.weights or _installed_weights(spec)
    if weights is not None:
        inputs["weights file"] = weights
    try:
        check_outputs(inputs, outputs, images=tuple(job.name for job in spec.jobs))
    except ValueError as error:
        raise BatchError(str(error)) from None
    earlier = _earlier_batch_files(folder)
    for path in outputs.values():
        if os.path.lexists(path) and path.name not in earlier:
            raise BatchError(f"{path}: already there, and not from an earlier batch; "
                             "choose an empty folder, or move the file")  # fmt: skip


def _installed_weights(spec: BatchSpec) -> Path | None:
    """The installed model file the runs read, when the spec names no weights file."""
    try:
        names = [installed_model(arch, spec.preprocessing)
                 for arch in sorted({job.settings.model for job in spec.jobs})]  # fmt: skip
        found = [weights_store.find_installed(name) for name in names]
    except WeightsError:  # not installed or broken: reported where the weights are read
        return None
    return next((installed.path for installed in found if installed is not None), None)


def _earlier_batch_files(folder: Path) -> set[str]:
    """The files an earlier batch's index.json in `folder` says that batch wrote (a batch
    run again into its folder replaces them); empty if there is no such index."""
    try:
        index = load_json(folder / INDEX_FILE, None, MAX_INDEX_BYTES)
    except DataFileError:
        return set()
    runs = index.get("runs")
    if index.get("version") != INDEX_VERSION or not isinstance(runs, list):
        return set()
    images = {run.get("image") for run in runs if isinstance(run, dict)}
    return {INDEX_FILE, SHEET_FILE} | {name for name in images if isinstance(name, str)}


def run_batch(spec: BatchSpec, runner: Runner, folder: Path, stop: threading.Event | None = None,
              on_progress: Callable[[Progress, RunRecord | None], None] | None = None,
              poll: float = 0.2) -> BatchResult:  # fmt: skip
    """Give every job to `runner`, save each result as it comes back, retry a failed run
    once, and write the index and contact sheet. `stop` (or Ctrl+C) cancels the runs not
    finished; what finished is kept and the index says which were cancelled."""
    if stop is not None:  # one event for the batch and its runner (a local run stops
        runner.stop = stop  # between two steps)
    stop = runner.stop
    on_progress = on_progress or (lambda progress, record: None)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = {job.index: job for job in spec.jobs}
    records: dict[int, RunRecord] = {}
    thumbnails: dict[int, Image.Image] = {}
    for job in spec.jobs:
        runner.submit(job, 1)
    cancelled = False
    on_progress(_progress(spec, records, runner.slots), None)
    with _ctrl_c_sets(stop):
        while len(records) < len(jobs):
            if stop.is_set():
                cancelled = True
                break
            for back in runner.finished(poll):
                job = jobs[back.index]
                if back.output is None and back.attempt < ATTEMPTS:
                    runner.submit(job, back.attempt + 1)
                    continue
                record = _record(job, back, folder, thumbnails, spec.thumbnail)
                records[job.index] = record
                _write_index(folder, spec, records, cancelled=False)
                on_progress(_progress(spec, records, runner.slots), record)
    if cancelled:
        runner.cancel()
        for index, job in jobs.items():
            records.setdefault(index, RunRecord(job, "cancelled"))
    index_path = _write_index(folder, spec, records, cancelled)
    tiles = [(thumbnails.get(job.index), _tile_label(records[job.index])) for job in spec.jobs]
    sheet_path = folder / SHEET_FILE
    save_image(contact_sheet(tiles, spec.thumbnail), sheet_path)
    ordered = tuple(records[job.index] for job in spec.jobs)
    on_progress(_progress(spec, records, runner.slots), None)
    return BatchResult(ordered, index_path, sheet_path, cancelled)


@contextmanager
def _ctrl_c_sets(stop: threading.Event) -> Iterator[None]:
    """Ctrl+C on the command line is the same as Cancel: it sets `stop`, which the loop and
    a local run read between two steps. Raised as KeyboardInterrupt instead, it could land
    between a picture's save and its record, leaving a saved run marked cancelled."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals (the window runs batches elsewhere)
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _record(job: Job, back: Finished, folder: Path, thumbnails: dict, size: int) -> RunRecord:
    if back.output is None:
        return RunRecord(job, "failed", back.attempt, back.error)
    image = back.output.image()
    try:
        save_image(image, folder / f"{job.name}.png", job.embedded())
    except (ImageError, OSError) as error:
        kept = keep_unsaved(image, folder / f"{job.name}.png", job.embedded())
        where = f"; the picture is kept as {kept}" if kept else ""
        return RunRecord(job, "failed", back.attempt, f"could not save: {error}{where}")
    thumbnails[job.index] = ImageOps.contain(image, (size, size), Image.Resampling.LANCZOS)
    return RunRecord(job, "done", back.attempt, seconds=back.output.seconds,
                     device=back.output.device)  # fmt: skip


def _progress(spec: BatchSpec, records: dict[int, RunRecord], slots: int) -> Progress:
    count = lambda status: sum(r.status == status for r in records.values())  # noqa: E731
    pending = len(spec.jobs) - len(records)
    running = min(pending, slots)
    return Progress(total=len(spec.jobs), done=count("done"), failed=count("failed"),
                    cancelled=count("cancelled"), running=running,
                    waiting=pending - running)  # fmt: skip


def _tile_label(record: RunRecord) -> str:
    label = record.job.label
    return label if record.status == "done" else f"{label} ({record.status})"


def _write_index(folder: Path, spec: BatchSpec, records: dict[int, RunRecord],
                 cancelled: bool) -> Path:  # fmt: skip
    """index.json: every run so far, in spec order (rewritten whole after each run)."""
    runs = [records[job.index].to_data() for job in spec.jobs if job.index in records]
    data = {"version": INDEX_VERSION, "runs": runs, "total": len(spec.jobs),
            "contact_sheet": SHEET_FILE, "cancelled": cancelled}  # fmt: skip
    path = folder / INDEX_FILE
    write_atomically(path, json.dumps(data, indent=2))
    return path
