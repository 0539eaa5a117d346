"""File ▸ Render variations… and File ▸ Render at size…: a batch from the window (issue 16).

Variations: up to three settings, each with a list of values, every combination a run
around the window's settings. Render at size: the paused or finished session goes on coarse
to fine up to N px. Either runs here or on a Ray cluster, through gui/batch_worker.py (the
only place that calls the engine's batch API); the dialog shows the counts, each finished
picture and at the end the contact sheet."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from engine.settings import SPECS
from gui.batch_worker import (
    BatchRequest,
    BatchThread,
    plan_variations,
    private_folder,
    ray_missing,
)
from gui.save_names import pictures_folder

MAX_FIELDS = 3
THUMB = 120
NONE = ""  # the field combo's "nothing varied"
_WORDS = {"yes": True, "on": True, "true": True, "no": False, "off": False, "false": False}


def grid_fields() -> list[tuple[str, str]]:
    """(field, label) of the settings a grid can vary: one value each (numbers, choices,
    on/off), in the order engine/settings.py declares them."""
    fields = []
    for name, spec in SPECS.items():
        if spec.rule.kind in ("int", "number", "bool") or spec.choices:
            fields.append((name, spec.label))
    return fields


def parse_values(name: str, text: str) -> list:
    """The values typed for `name`, comma separated; ValueError says which one is wrong.
    Ranges are the engine's to check (expand names the field and the run)."""
    spec = SPECS[name]
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or not all(parts):
        raise ValueError(f"{spec.label}: give one or more values, separated by commas")
    values = []
    for part in parts:
        if spec.choices:
            match = [v for v, label in spec.choices if part.lower() in (v.lower(), label.lower())]
            if not match:
                shown = ", ".join(label for _, label in spec.choices)
                raise ValueError(f"{spec.label}: '{part}' is not one of {shown}")
            values.append(match[0])
        elif spec.rule.kind == "bool":
            if part.lower() not in _WORDS:
                raise ValueError(f"{spec.label}: '{part}' is not on or off")
            values.append(_WORDS[part.lower()])
        elif spec.rule.kind == "int":
            try:
                values.append(int(part))
            except ValueError:
                raise ValueError(f"{spec.label}: '{part}' is not a whole number") from None
        else:
            try:
                values.append(float(part))
            except ValueError:
                raise ValueError(f"{spec.label}: '{part}' is not a number") from None
    return values


def default_output(kind: str) -> Path:
    return pictures_folder() / "Impasto" / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


class VariationsDialog(QDialog):
    """`size=False`: Render variations…; `size=True`: Render at size…"""

    def __init__(self, state, window, size: bool = False):
        super().__init__(window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.state = state
        self.size_mode = size
        self.running = False
        self.output_path: Path | None = None
        self.setWindowTitle("Render at size" if size else "Render variations")
        self.batch = BatchThread(self)
        worker = self.batch.worker
        worker.progressed.connect(self._on_progress)
        worker.runFinished.connect(self._on_run_finished)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)

        layout = QVBoxLayout(self)
        self.rows: list[tuple[QComboBox, QLineEdit]] = []
        if size:
            self.size_box = QSpinBox(suffix=" px")
            low, high, _ = SPECS["size"].window
            self.size_box.setRange(int(low), int(high))
            reached = max(state.result_image().size) if state.frame is not None else 512
            self.size_box.setValue(min(int(high), 2 * reached))
            form = QFormLayout()
            form.addRow("Render this picture at", self.size_box)
            layout.addWidget(QLabel(
                "The photo, paintings, settings and the current picture go on coarse to "
                "fine up to this size.", wordWrap=True))  # fmt: skip
            layout.addLayout(form)
        else:
            layout.addWidget(QLabel("Vary up to three settings; every combination is one "
                                    "picture. Values are separated by commas.",
                                    wordWrap=True))  # fmt: skip
            grid = QGridLayout()
            grid.addWidget(QLabel("Setting", objectName="Heading"), 0, 0)
            grid.addWidget(QLabel("Values", objectName="Heading"), 0, 1)
            for row in range(MAX_FIELDS):
                combo = QComboBox()
                combo.addItem("—", NONE)
                for name, label in grid_fields():
                    combo.addItem(label, name)
                values = QLineEdit(placeholderText="e.g. 1, 5, 20")
                grid.addWidget(combo, row + 1, 0)
                grid.addWidget(values, row + 1, 1)
                self.rows.append((combo, values))
            layout.addLayout(grid)
            weight = state.settings.style_weight
            self.set_row(0, "style_weight", f"{weight / 2:g}, {weight:g}, {weight * 2:g}")
            self.set_row(1, "seed", "0, 1")

        where = QFormLayout()
        self.folder_edit = QLineEdit(str(default_output("size" if size else "variations")))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        where.addRow("Output folder", folder_row)
        self.local_radio = QRadioButton("This computer", checked=True)
        self.ray_radio = QRadioButton("Ray cluster at")
        self.address_edit = QLineEdit("auto", placeholderText="auto, HOST:PORT or local")
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.ray_radio)
        ray_row = QHBoxLayout()
        ray_row.addWidget(self.ray_radio)
        ray_row.addWidget(self.address_edit, 1)
        why_not = ray_missing()
        self.ray_reason = QLabel(why_not, objectName="Caption", visible=bool(why_not))
        if why_not:
            self.ray_radio.setEnabled(False)
            self.address_edit.setEnabled(False)
            self.ray_radio.setToolTip(why_not)
        run_on = QVBoxLayout()
        run_on.addWidget(self.local_radio)
        run_on.addLayout(ray_row)
        run_on.addWidget(self.ray_reason)
        where.addRow("Run on", run_on)
        layout.addLayout(where)

        self.message = QLabel("", wordWrap=True, visible=False)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        # Shown from the first Start: before it there is nothing to count.
        self.progress = QProgressBar(textVisible=False, visible=False)
        self.counts = QLabel("")
        layout.addWidget(self.progress)
        layout.addWidget(self.counts)
        self.thumbnails = QListWidget(viewMode=QListWidget.ViewMode.IconMode)
        self.thumbnails.setIconSize(QSize(THUMB, THUMB))
        self.thumbnails.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.thumbnails.setMinimumHeight(THUMB + 40)
        self.thumbnails.hide()
        layout.addWidget(self.thumbnails, 1)
        self.sheet = QLabel(visible=False, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.sheet)

        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open folder", enabled=False)
        self.open_button.clicked.connect(self.open_folder)
        self.start_button = QPushButton("Start", default=True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.resize(640, 300)

    def set_row(self, row: int, name: str, values: str) -> None:
        combo, edit = self.rows[row]
        combo.setCurrentIndex(max(0, combo.findData(name)))
        edit.setText(values)

    # --- starting ----------------------------------------------------------------------

    def grid(self) -> dict[str, list]:
        """The chosen fields and their values; ValueError names a bad one."""
        grid: dict[str, list] = {}
        for combo, edit in self.rows:
            name = combo.currentData()
            if name == NONE:
                continue
            if name in grid:
                raise ValueError(f"{SPECS[name].label} is chosen twice")
            grid[name] = parse_values(name, edit.text())
        if not grid:
            raise ValueError("Choose at least one setting to vary")
        return grid

    @Slot()
    def start(self) -> None:
        if self.running:
            return
        state = self.state
        local = not self.ray_radio.isChecked()
        folder_text = self.folder_edit.text().strip()
        try:
            if not folder_text:
                raise ValueError("Choose an output folder")
            output = Path(folder_text).expanduser()
            if local and state.status == "running":
                raise ValueError("Pause or stop the run in the window first: on this "
                                 "computer both would share the processor.")  # fmt: skip
            address = None if local else (self.address_edit.text().strip() or "auto")
            request = BatchRequest(output, private_folder(), address)
            if self.size_mode:
                session = state.session()
                if session is None:
                    raise ValueError("Render at size needs a paused or finished picture")
                request.session, request.size = session, self.size_box.value()
            else:
                if state.content is None or not state.styles:
                    raise ValueError("Drop a photo and at least one painting first")
                request.spec = plan_variations(state.settings, len(state.styles),
                                               self.grid(), request.inputs,
                                               state.model_preprocessing())  # fmt: skip
                request.content = state.content.image
                request.styles = [style.image for style in state.styles]
        except ValueError as error:  # BatchSpecError too: one line, and nothing runs
            self.show_message("error", str(error))
            return
        self.output_path = output
        self.thumbnails.clear()
        self.thumbnails.show()
        self.progress.show()
        self.sheet.hide()
        total = len(request.spec.jobs) if request.spec is not None else 1
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.counts.setText(f"0 of {total} done, 0 running, 0 failed")
        where = "this computer" if local else f"the Ray cluster at {address}"
        self.show_message("info", f"Rendering on {where}…")
        self._set_running(True)
        if local:  # the window's own Start still works; say what it costs
            state.message.emit("info", "A batch is rendering on this computer: a run started "
                               "in the window now shares the processor with it.")  # fmt: skip
        self.batch.start(request)

    @Slot()
    def cancel(self) -> None:
        if self.running:
            self.batch.cancel()
            self.cancel_button.setEnabled(False)
            self.show_message("info", "Cancelling: the runs not finished are stopped…")

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for combo, edit in self.rows:
            combo.setEnabled(not running)
            edit.setEnabled(not running)

    # --- from the worker -----------------------------------------------------------------

    @Slot(object)
    def _on_progress(self, progress) -> None:
        self.progress.setRange(0, progress.total)
        self.progress.setValue(progress.done + progress.failed + progress.cancelled)
        text = f"{progress.done} of {progress.total} done, {progress.running} running, "
        text += f"{progress.failed} failed"
        if progress.cancelled:
            text += f", {progress.cancelled} cancelled"
        self.counts.setText(text)

    @Slot(object, str)
    def _on_run_finished(self, record, path: str) -> None:
        label = record.job.label
        if record.status == "done":
            pixmap = QPixmap(path)
            if not pixmap.isNull():
                pixmap = pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)  # fmt: skip
            item = QListWidgetItem(QIcon(pixmap), label)
        else:
            item = QListWidgetItem(f"{label}\nfailed: {record.error}")
        item.setToolTip(path or record.error)
        self.thumbnails.addItem(item)

    @Slot(object)
    def _on_finished(self, result) -> None:
        self._set_running(False)
        done, failed = result.count("done"), result.count("failed")
        if result.cancelled:
            text = f"Cancelled: {done} finished and kept, {result.count('cancelled')} not run."
            level = "warning"
        elif failed:
            errors = "; ".join(f"{r.job.name}: {r.error}" for r in result.records if r.error)
            text, level = f"{done} done, {failed} failed ({errors}).", "error"
        else:
            plural = "picture" if done == 1 else "pictures"
            text, level = f"Finished: {done} {plural} in {self.output_path}.", "info"
        self.show_message(level, text)
        sheet = QPixmap(str(result.sheet))
        if not sheet.isNull():
            self.sheet.setPixmap(
                sheet.scaled(
                    560,
                    240,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            self.sheet.show()
        self.open_button.setEnabled(True)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.show_message("error", message)

    def show_message(self, level: str, text: str) -> None:
        colours = {"error": "#b3261e", "warning": "#8a5a00", "info": ""}
        self.message.setProperty("level", level)
        colour = colours.get(level, "")
        self.message.setStyleSheet(f"color: {colour}; font-weight: 600;" if colour else "")
        self.message.setText(text)
        self.message.show()

    # --- the rest ------------------------------------------------------------------------

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    @Slot()
    def open_folder(self) -> None:
        if self.output_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.output_path)))

    def closeEvent(self, event) -> None:
        self.batch.shutdown()  # a batch under way is cancelled and waited for
        super().closeEvent(event)

    def done(self, result: int) -> None:
        # Esc ends a dialog without a closeEvent, and WA_DeleteOnClose then deletes it with
        # its thread still running ("QThread: Destroyed while thread is still running").
        self.batch.shutdown()
        super().done(result)
