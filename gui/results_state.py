"""The results part of the GUI's state: the picture on the canvas, the snapshots, saving,
and the session kept for the next launch (autosave and restore). AppState (gui/state.py)
is made of it and holds the signals it emits.

What the canvas shows travels as a plain (H, W, 3) uint8 RGB array: the state holds no Qt
images, and the views make their own (napari keeps its model free of Qt types too)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Slot

from engine.images import ImageError, save_image
from engine.region_files import painted_record
from engine.session import Session
from engine.settings import RunSettings
from gui.sources import SourceImage, thumbnail


@dataclass(frozen=True)
class Snapshot:
    iteration: int
    image: Image.Image
    thumbnail: Image.Image
    settings: RunSettings | None = None  # what made it; saved with it


def rgb_array(image: Image.Image) -> np.ndarray:
    """A picture as the canvas takes it: an (H, W, 3) uint8 RGB array of its own."""
    return np.asarray(image.convert("RGB")).copy()


class ResultsPart:
    """Snapshots, the result, saving it, and the session. A part of AppState, which has the
    signals, the run's newest frame and report, and the session keeper these methods use."""

    def view_snapshot(self, index: int | None) -> None:
        self.viewing = index if index is not None and 0 <= index < len(self.snapshots) else None
        if self.viewing is None:
            if self.frame is not None:
                self.displayChanged.emit(self.frame)
        else:
            self.displayChanged.emit(rgb_array(self.snapshots[self.viewing].image))

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

    def picture_record(self, settings: RunSettings) -> dict:
        """What a saved picture embeds, as the command line's saves do: the settings, the
        model's preprocessing, the photo and paintings (their files, else their names) and
        the regions; Load preset on the picture gives the settings and model back."""
        record = {**settings.to_dict(), "content": self.content.path or self.content.label,
                  "styles": [style.path or style.label for style in self.styles]}  # fmt: skip
        if self.model_preprocessing() is not None:
            record["preprocessing"] = self.model_preprocessing()
        if self.regions:
            record["regions"] = painted_record(self.regions)
        return record

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
        settings = self.picture_record(made_by or self.run_settings or self.settings)
        try:
            save_image(image, path, settings)
        except ImageError as error:
            self.message.emit("error", str(error))
            return False
        self._remember_folder("save_folder", path)
        self._saved_report = self.report
        self.message.emit("info", f"Saved {Path(path).name} ({image.width}×{image.height} px).")
        return True

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
            regions=list(self.regions),
            preprocessing=self.model_preprocessing(),
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
        self._use_settings(session.settings, record=False)
        self.use_network(session.preprocessing)
        self.snapshots = [Snapshot(n, image, thumbnail(image)) for n, image in session.snapshots]
        self.viewing, self.report, self.run_settings = None, None, None
        self.regions = tuple(session.regions)  # Regions mode paints them back (contentChanged)
        latest = session.latest or (self.snapshots[-1].image if self.snapshots else None)
        self.resume_image = latest
        self.resume_step = session.iteration if latest is not None else 0
        self.contentChanged.emit()
        self.stylesChanged.emit()
        self.snapshotsChanged.emit()
        self.historyCleared.emit()
        if latest is not None:
            self.frame = rgb_array(latest)
            self.displayChanged.emit(self.frame)
        self.message.emit("info", f"Restored the session at step {session.iteration}: "
                          "Start goes on from this image.")  # fmt: skip
        return True

    def discard_offered_session(self) -> None:
        self.sessions.discard_pending()

    @Slot(str)
    def _on_warning(self, text: str) -> None:
        self.message.emit("warning", text)
