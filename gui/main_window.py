"""The main window: panes left, canvas in the middle, run controls and settings right."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.images import SAVE_FORMATS
from gui.canvas import PreviewCanvas
from gui.closing import CANCEL, DISCARD, SAVE, ask_before_closing
from gui.controls import ControlsPanel
from gui.drop_panes import ContentPane, StylePane
from gui.loss_plot import LossPlot
from gui.preset_files import PRESET_FILTER
from gui.run_keys import RunKeys
from gui.save_names import save_start_folder, suggested_name
from gui.snapshots import SnapshotStrip
from gui.state import IDLE, PAUSED, PAUSING, RUNNING, AppState, elapsed_text
from gui.weights_dialog import WeightsDialog, friendly_reason

SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff);;WebP (*.webp)"
STYLE_SHEET = """
#DropPane { border: 2px dashed palette(mid); border-radius: 8px; }
#DropPane[hover="true"] { border-color: palette(highlight); }
#DropPane:focus { border-style: solid; }
#Caption { color: palette(placeholder-text); }
#Heading { font-weight: 600; }
#MessageBar { border-radius: 6px; padding: 2px; }
#MessageBar[level="info"] { background: palette(alternate-base); }
#MessageBar[level="warning"], #RestoreBar { background: #f3d27a; color: black; }
#MessageBar[level="warning"] QLabel, #RestoreBar QLabel { color: black; }
#RestoreBar { border-radius: 6px; padding: 2px; }
#MessageBar[level="error"], #MessageBar[level="oom"] { background: #b3261e; color: white; }
#MessageBar[level="error"] QLabel, #MessageBar[level="oom"] QLabel { color: white; }
#BigNumber { font-size: 15pt; font-weight: 600; }
"""


class MessageBar(QFrame):
    """A message in the window (never a modal box): errors stay, notes fade after a while."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("MessageBar")
        self.text = QLabel(wordWrap=True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.again = QPushButton("Try again")
        self.again.setToolTip("Go on from the last good image at the same size")
        self.smaller = QPushButton("Retry at half size")
        self.cpu = QPushButton("Retry on the CPU")
        self.use_settings = QPushButton("Use this picture's settings")
        close = QToolButton(text="✕", autoRaise=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.again)
        layout.addWidget(self.smaller)
        layout.addWidget(self.cpu)
        layout.addWidget(self.use_settings)
        layout.addWidget(close)
        self.timer = QTimer(self, singleShot=True, interval=8000)
        self.timer.timeout.connect(self.hide)
        close.clicked.connect(self.hide)
        self.again.clicked.connect(self._retry_same)
        self.smaller.clicked.connect(self._retry_smaller)
        self.cpu.clicked.connect(self._retry_cpu)
        self.use_settings.clicked.connect(self._use_settings)
        state.message.connect(self.show_message)
        state.settingsOffered.connect(self._offer_settings)
        # An error stays until a later action succeeds: a new photo or painting, a Start.
        state.contentChanged.connect(self._clear_error)
        state.stylesChanged.connect(self._clear_error)
        state.statusChanged.connect(self._on_status)
        self.hide()

    @Slot(str, str)
    def show_message(self, level: str, text: str) -> None:
        if level == "warning" and self.isVisibleTo(self.parentWidget()):
            if self.property("level") == "warning" and text not in self.text.text():
                text = f"{self.text.text()}\n{text}"  # launch can bring two: keep both
        self.text.setText(text)
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.again.setVisible(level == "oom")
        self.smaller.setVisible(level == "oom")
        self.cpu.setVisible(level == "oom")
        self.use_settings.setVisible(False)
        self.show()
        if level == "info":
            self.timer.start()
        else:
            self.timer.stop()

    @Slot()
    def _clear_error(self) -> None:
        if self.property("level") in ("error", "oom"):
            self.hide()

    @Slot(str)
    def _on_status(self, status: str) -> None:
        if status == "running":
            self._clear_error()

    @Slot(str, bool)
    def _offer_settings(self, text: str, usable: bool) -> None:
        self.show_message("warning" if usable else "error", text)
        self.use_settings.setVisible(usable)

    @Slot()
    def _use_settings(self) -> None:
        self.hide()
        self.state.use_offered_settings()

    @Slot()
    def _retry_same(self) -> None:
        self.hide()
        self.state.retry()

    @Slot()
    def _retry_smaller(self) -> None:
        self.hide()
        self.state.retry(size=max(64, self.state.settings.size // 2))

    @Slot()
    def _retry_cpu(self) -> None:
        self.hide()
        self.state.retry(device="cpu")


class RestoreBar(QFrame):
    """Offers an autosaved session at launch, without blocking the window."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("RestoreBar")
        self.text = QLabel(wordWrap=True)
        self.restore = QPushButton("Restore")
        self.discard = QPushButton("Discard")
        self.restore.setToolTip("Bring back the photo, paintings, settings, snapshots and image")
        self.discard.setToolTip("Delete the autosaved session and start afresh")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.restore)
        layout.addWidget(self.discard)
        self.restore.clicked.connect(self._on_restore)
        self.discard.clicked.connect(self._on_discard)
        state.sessionOffered.connect(self.offer)
        self.hide()

    @Slot(object)
    def offer(self, session) -> None:
        if session is None:
            self.hide()
            return
        self.text.setText(f"Restore the session from {saved_time_text(session.saved_at)} "
                          f"(step {session.iteration})?")  # fmt: skip
        self.show()

    @Slot()
    def _on_restore(self) -> None:
        self.state.restore_session()

    @Slot()
    def _on_discard(self) -> None:
        self.state.discard_offered_session()


def saved_time_text(saved_at: float) -> str:
    """ "14:05", or "12 Mar 14:05" for another day."""
    when = time.localtime(saved_at)
    same_day = time.strftime("%Y%m%d", when) == time.strftime("%Y%m%d")
    return time.strftime("%H:%M" if same_day else "%d %b %H:%M", when)


class RunPanel(QWidget):
    """Start / Pause / Stop, progress numbers and the loss plot."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.start = QPushButton("Start")
        self.start.setDefault(True)
        self.pause = QPushButton("Pause")
        self.stop = QPushButton("Stop")
        self.start.setToolTip("Start (Ctrl+Return)")
        self.pause.setToolTip("Pause / resume (Space)")
        self.stop.setToolTip("Stop (Esc)")
        self.progress = QProgressBar(textVisible=False)
        self.progress.setMaximumHeight(8)
        self.iteration = QLabel("–", objectName="BigNumber")
        self.speed = QLabel("–", objectName="BigNumber")
        self.left = QLabel("–", objectName="BigNumber")
        self.plot = LossPlot(state)
        buttons = QHBoxLayout()
        for button in (self.start, self.pause, self.stop):
            buttons.addWidget(button)
        numbers = QGridLayout()
        for column, (title, label) in enumerate(
            (("step", self.iteration), ("it/s", self.speed), ("time left", self.left))
        ):
            caption = QLabel(title, objectName="Caption")
            numbers.addWidget(label, 0, column)
            numbers.addWidget(caption, 1, column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(numbers)
        layout.addWidget(self.plot)
        self.start.clicked.connect(self.start_run)
        self.pause.clicked.connect(state.toggle_pause)
        self.stop.clicked.connect(state.stop)
        for signal in (state.statusChanged, state.contentChanged, state.stylesChanged):
            signal.connect(self.refresh)
        state.progressChanged.connect(self._on_progress)
        self.refresh()

    @Slot()
    def start_run(self) -> None:
        self.state.start()

    @Slot()
    def refresh(self, *_) -> None:
        status = self.state.status
        self.start.setEnabled(self.state.can_start())
        self.pause.setEnabled(status in (RUNNING, PAUSING, PAUSED))
        self.pause.setText("Resume" if status in (PAUSING, PAUSED) else "Pause")
        self.stop.setEnabled(status in (RUNNING, PAUSING, PAUSED))
        if status == IDLE:
            self.left.setText("–")
            self.speed.setText("–")
        elif self.state.report is None:  # a new run: no numbers of the last one stay up
            settings = self.state.settings
            total, done = settings.steps * len(settings.sizes), self.state.start_step
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.iteration.setText(step_count_text(done, total, len(settings.sizes)))
            self.left.setText("–")
            self.speed.setText("–")

    @Slot(object)
    def _on_progress(self, report) -> None:
        self.progress.setRange(0, report.total_steps)
        self.progress.setValue(report.iteration)
        scales = len((self.state.run_settings or self.state.settings).sizes)
        self.iteration.setText(step_count_text(report.iteration, report.total_steps, scales))
        rate = self.state.rate
        self.speed.setText(f"{rate:.1f}" if rate >= 1 else f"{rate:.2f}")
        remaining = report.total_steps - report.iteration
        self.left.setText(elapsed_text(remaining / rate) if rate > 0 else "–")


def step_count_text(done: int, total: int, scales: int) -> str:
    """ "41 / 300 (2 scales)": the total counts every scale of a coarse-to-fine run, so the
    scales are named, or 300 would contradict "Steps per scale: 150"."""
    return f"{done} / {total}" + (f" ({scales} scales)" if scales > 1 else "")


class MainWindow(QMainWindow):
    def __init__(self, state: AppState):
        super().__init__()
        self.state = state
        self.weights_dialog: WeightsDialog | None = None
        self._asked_to_close = False
        self._shut_down = False
        # Qt deletes a closed window, on the GUI thread, and with it every Qt object it
        # owns (its state and engine thread among them): Python's collector, running in
        # whatever thread, is then left only Python objects to free.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Impasto")
        self.setStyleSheet(STYLE_SHEET)
        self.setAcceptDrops(False)

        self.content_pane = ContentPane(state)
        self.style_pane = StylePane(state)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(QLabel("Photo", objectName="Heading"))
        left_layout.addWidget(self.content_pane, 2)
        left_layout.addWidget(QLabel("Paintings", objectName="Heading"))
        left_layout.addWidget(self.style_pane, 3)

        self.canvas = PreviewCanvas(state)
        self.messages = MessageBar(state)
        self.restore_bar = RestoreBar(state)
        self.snapshots = SnapshotStrip(state)
        self.snapshots.saveRequested.connect(self._save_snapshot)
        self.zoom_label = QLabel("", objectName="Caption")
        self.canvas.zoomChanged.connect(self._on_zoom)
        bar = QHBoxLayout()
        self.fit_button = QToolButton(text="Fit")
        self.actual_button = QToolButton(text="100%")
        self.compare_button = QToolButton(text="Before / after", checkable=True)
        self.live_button = QToolButton(text="Live")
        self.fit_button.clicked.connect(self.canvas.fit_to_window)
        self.actual_button.clicked.connect(self.canvas.actual_size)
        self.compare_button.toggled.connect(self.canvas.set_compare)
        self.live_button.clicked.connect(self._view_live)
        for button in (self.fit_button, self.actual_button, self.compare_button, self.live_button):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.zoom_label)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.addLayout(bar)
        middle_layout.addWidget(self.restore_bar)
        middle_layout.addWidget(self.messages)
        middle_layout.addWidget(self.canvas, 1)
        middle_layout.addWidget(self.snapshots)

        self.run_panel = RunPanel(state)
        self.controls = ControlsPanel(state)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        # Settings scroll down, never sideways: a sideways bar hides the value boxes.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.controls)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.run_panel)
        right_layout.addWidget(QLabel("Settings", objectName="Heading"))
        right_layout.addWidget(scroll, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(middle)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([290, 860, 350])
        splitter.setChildrenCollapsible(False)
        left.setMinimumWidth(240)
        right.setMinimumWidth(300)
        self.setCentralWidget(splitter)
        self._make_menus()
        self.run_keys = RunKeys(self, state)
        state.statusChanged.connect(self._enable_run_actions)
        self._enable_run_actions()
        state.needsWeights.connect(self.show_weights_dialog)
        state.statusChanged.connect(self._on_status)
        for signal in (state.contentChanged, state.stylesChanged):
            signal.connect(self._show_status)
        self._show_status()
        self._restore_geometry()
        state.setParent(self)  # last: on deletion the widgets go first, then the state
        self._startup_checks()

    # --- menus and shortcuts ---------------------------------------------------------------

    def _make_menus(self) -> None:
        def action(menu, text, slot, shortcut=None):
            item = QAction(text, self)
            if shortcut is not None:
                item.setShortcut(QKeySequence(shortcut))
            item.triggered.connect(slot)
            menu.addAction(item)
            return item

        file = self.menuBar().addMenu("&File")
        action(file, "Open photo…", self.content_pane.browse, QKeySequence.StandardKey.Open)
        action(file, "Add painting…", self.style_pane.browse, "Ctrl+Shift+O")
        action(file, "Paste as photo", self.content_pane.paste, QKeySequence.StandardKey.Paste)
        action(file, "Paste as painting", self.style_pane.paste, "Ctrl+Shift+V")
        file.addSeparator()
        action(file, "Save image…", self.save_dialog, QKeySequence.StandardKey.Save)
        action(file, "Save settings as preset…", self.save_preset_dialog)
        action(file, "Load preset…", self.load_preset_dialog)
        file.addSeparator()
        action(file, "Model weights…", self._open_weights)
        # Ctrl+Q spelled out: StandardKey.Quit is empty on Windows and on bare Linux desktops.
        quit_action = action(file, "Quit", self.quit, "Ctrl+Q")
        # Also from the weights dialog (its own window) and any other window of the app.
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        run = self.menuBar().addMenu("&Run")
        action(run, "Start", self.run_panel.start_run, "Ctrl+Return")
        self.pause_action = action(run, "Pause / resume", self.state.toggle_pause, "Space")
        self.stop_action = action(run, "Stop", self.state.stop, "Esc")
        view = self.menuBar().addMenu("&View")
        action(view, "Fit to window", self.canvas.fit_to_window, "Ctrl+0")
        action(view, "Actual pixels (100%)", self.canvas.actual_size, "Ctrl+1")
        zoom_in = action(view, "Zoom in", self._zoom_in, QKeySequence.StandardKey.ZoomIn)
        # Ctrl+= too, as in Krita and GIMP: "+" needs Shift on most keyboards.
        zoom_in.setShortcuts([*zoom_in.shortcuts(), QKeySequence("Ctrl+=")])
        action(view, "Zoom out", self._zoom_out, QKeySequence.StandardKey.ZoomOut)
        action(view, "Before / after", self.compare_button.toggle, "B")
        action(view, "Live view", self._view_live, "L")

    @Slot()
    def _zoom_in(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom * 1.25)

    @Slot()
    def _zoom_out(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom / 1.25)

    @Slot()
    def _view_live(self) -> None:
        self.state.view_snapshot(None)
        self.snapshots.clearSelection()

    @Slot(float)
    def _on_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%")

    @Slot()
    def _enable_run_actions(self, *_) -> None:
        # Without a run, Space and Esc stay with the focused widget (a check box, a button).
        self.pause_action.setEnabled(self.state.active)
        self.stop_action.setEnabled(self.state.active)

    @Slot(str)
    def _on_status(self, status: str) -> None:
        self._show_status()

    @Slot()
    def _show_status(self) -> None:
        """The status bar says what the window is doing, or what to do next."""
        state = self.state
        text = {"running": "Running…", "pausing": "Pausing after this step…",
                "paused": "Paused. Change weights, then resume (Space).",
                "stopping": "Stopping…"}.get(state.status)  # fmt: skip
        if text is None and not state.can_start():
            text = ("Drop a photo and a painting, then press Start." if state.content is None
                    else "Now drop one or more paintings, then press Start.")  # fmt: skip
        elif text is None and state.resume_image is not None:
            text = "Restored. Start (Ctrl+Return) goes on from this picture."
        elif text is None:
            text = "Ready: press Start (Ctrl+Return)."
        self.statusBar().showMessage(f"{text}   Device: {state.device_name}")

    # --- files ----------------------------------------------------------------------------

    def save_dialog(self) -> bool:
        """Ask where to save the picture on the canvas, and save it; True when saved."""
        state = self.state
        step = None if state.viewing is None else state.snapshots[state.viewing].iteration
        name = suggested_name(state.content.label if state.content else None,
                              [style.label for style in state.styles], step)  # fmt: skip
        name = str(save_start_folder(state.preferences) / name)
        path, chosen = QFileDialog.getSaveFileName(self, "Save image", name, SAVE_FILTER)
        return bool(path) and self.state.save_result(_with_suffix(path, chosen))

    @Slot(int)
    def _save_snapshot(self, index: int) -> None:
        self.state.view_snapshot(index)
        self.save_dialog()

    def save_preset_dialog(self) -> None:
        folder = self.state.preferences.get("preset_folder") or ""
        path, _ = QFileDialog.getSaveFileName(self, "Save preset", folder,
                                              "Impasto preset (*.json)")  # fmt: skip
        if path:
            self.state.save_preset(path if path.endswith(".json") else path + ".json")

    def load_preset_dialog(self) -> None:
        folder = self.state.preferences.get("preset_folder") or ""
        path, _ = QFileDialog.getOpenFileName(self, "Load preset", folder, PRESET_FILTER)
        if path:
            self.state.load_preset(path)

    # --- weights --------------------------------------------------------------------------

    @Slot(str)
    def show_weights_dialog(self, reason: str) -> None:
        if self.weights_dialog is None:
            self.weights_dialog = WeightsDialog(self.state, reason, self)
        self.weights_dialog.reason.setText(friendly_reason(reason))
        self.weights_dialog.show()
        self.weights_dialog.raise_()

    @Slot()
    def _open_weights(self) -> None:
        self.show_weights_dialog("Download or import the network weights.")

    # --- geometry and shutdown -----------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = self.state.preferences.get("geometry")
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        else:
            screen = QGuiApplication.primaryScreen()
            available = screen.availableGeometry() if screen else None
            width = min(1500, available.width() - 40) if available else 1400
            height = min(950, available.height() - 60) if available else 900
            self.resize(width, height)

    def _startup_checks(self) -> None:
        """Once, at launch: a preferences file that was set aside, an autosaved session."""
        problem = self.state.preferences.problem
        if problem:
            self.state.preferences.problem = ""  # told once
            self.state.message.emit("warning", f"Settings were reset: {problem}.")
        self.state.look_for_session()

    @Slot()
    def shutdown(self, discard: bool = False) -> None:
        """Idempotent: closeEvent and QApplication.aboutToQuit both end here. The session
        is kept for the next launch unless `discard`."""
        if self._shut_down:
            return
        self._shut_down = True
        self.run_keys.uninstall()
        if self.weights_dialog is not None:
            self.weights_dialog.close()  # its own window: it would stay up on its own
        geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.state.preferences.set("geometry", geometry)
        self.state.shutdown(discard)
        thread = self.state.thread
        if thread.isRunning():
            # A step longer than the state's wait: the thread ends after it. Destroyed
            # running (with the window), it would abort the program, so the application
            # owns it until it finishes.
            thread.setParent(QCoreApplication.instance())
            thread.finished.connect(thread.deleteLater)

    @Slot()
    def quit(self) -> None:
        """File ▸ Quit and Ctrl+Q: a close the artist asked for, so unsaved work is asked about."""
        self._asked_to_close = True
        try:
            self.close()
        finally:
            self._asked_to_close = False

    def closeEvent(self, event) -> None:
        # The artist's close (the title bar's button, Quit) asks about an unsaved picture;
        # a close from code (tests, tools) and the end of a desktop session do not.
        answer = None
        asked = event.spontaneous() or self._asked_to_close
        if asked and self.state.unsaved_result():
            report = self.state.report
            answer = ask_before_closing(self, report.iteration, report.total_steps)
            if answer == CANCEL or (answer == SAVE and not self.save_dialog()):
                event.ignore()
                return
        self.shutdown(discard=answer == DISCARD)
        super().closeEvent(event)


def _with_suffix(path: str, chosen_filter: str) -> str:
    if Path(path).suffix.lower() in SAVE_FORMATS:
        return path
    suffix = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "WebP": ".webp"}
    return path + suffix.get(chosen_filter.split(" ")[0], ".png")
