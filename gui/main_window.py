"""The main window: panes left, canvas in the middle, run controls and settings right.
Its parts: the menus (gui/menus.py), the banners (gui/message_bars.py), the run panel
(gui/run_panel.py), the settings (gui/controls.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, QSize, Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from engine.images import SAVE_FORMATS
from gui.canvas import PreviewCanvas
from gui.closing import CANCEL, DISCARD, SAVE, ask_before_closing
from gui.controls import ControlsPanel
from gui.drop_panes import ContentPane, StylePane
from gui.finish_notice import FinishNotifier
from gui.menus import WindowMenus
from gui.message_bars import MessageBar, RestoreBar
from gui.preset_files import PRESET_FILTER
from gui.region_overlay import RegionsMode
from gui.run_keys import RunKeys
from gui.run_panel import RunPanel
from gui.save_names import save_start_folder, suggested_name
from gui.snapshots import SnapshotStrip
from gui.state import AppState
from gui.variations_dialog import VariationsDialog
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


class SettingsScroll(QScrollArea):
    """The settings, scrolling down, never sideways (a sideways bar hides the value boxes).
    Never narrower than the settings with the scroll bar beside them: at the window's
    smallest, the bar once covered the value boxes and cut the labels."""

    def __init__(self, controls: QWidget, parent=None):
        super().__init__(parent, widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(controls)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        width = self.widget().minimumSizeHint().width() + bar + 2 * self.frameWidth()
        return QSize(max(hint.width(), width), hint.height())

    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # a section opened: the settings may be wider now
        return super().eventFilter(watched, event)


class MainWindow(QMainWindow):
    def __init__(self, state: AppState):
        super().__init__()
        self.state = state
        self.weights_dialog: WeightsDialog | None = None
        self.batch_dialog: VariationsDialog | None = None  # File ▸ Render variations / at size
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
        self.live_button.clicked.connect(self.view_live)
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
        self.regions = RegionsMode(self, bar, middle_layout)  # issue 15: gui/region_overlay.py
        middle_layout.addWidget(self.snapshots)

        self.run_panel = RunPanel(state)
        self.controls = ControlsPanel(state)
        scroll = SettingsScroll(self.controls)
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
        # Small enough for 1280 x 720 at 2x scaling (1280 x 720 px of the screen's 2560 x
        # 1440) with room to spare: the panes' own contents decide their smallest widths.
        self.setCentralWidget(splitter)
        self.menus = WindowMenus(self)
        self.run_keys = RunKeys(self, state)
        self.finish_notifier = FinishNotifier(state, self)
        state.needsWeights.connect(self.show_weights_dialog)
        # A label in the bar, not showMessage: a temporary message is cleared by every
        # menu's status tips and by other messages, which left the bar blank.
        self.status_text = QLabel(self)
        self.statusBar().addWidget(self.status_text, 1)
        state.statusChanged.connect(self._on_status)
        for signal in (state.contentChanged, state.stylesChanged, state.deviceChanged):
            signal.connect(self._show_status)
        self._show_status()
        self._restore_geometry()
        state.setParent(self)  # last: on deletion the widgets go first, then the state
        self._startup_checks()

    @Slot()
    def zoom_in(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom * 1.25)

    @Slot()
    def zoom_out(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom / 1.25)

    @Slot()
    def view_live(self) -> None:
        self.state.view_snapshot(None)
        self.snapshots.clearSelection()

    @Slot(float)
    def _on_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%")

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
        elif text is None and state.finished_text:
            text = f"{state.finished_text} Save it with Ctrl+S."
        elif text is None and state.resume_image is not None:
            text = "Restored. Start (Ctrl+Return) goes on from this picture."
        elif text is None:
            text = "Ready: press Start (Ctrl+Return)."
        self.status_text.setText(f"{text}   Device: {state.device_name}")

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

    @Slot()
    def render_variations(self) -> None:
        self._open_batch_dialog(size=False)

    @Slot()
    def render_at_size(self) -> None:
        self._open_batch_dialog(size=True)

    def _open_batch_dialog(self, size: bool) -> None:
        dialog = self.batch_dialog
        if dialog is not None and isValid(dialog):  # a closed one Qt has deleted
            if dialog.running:
                dialog.raise_()  # one batch at a time
                return
            dialog.close()
        self.batch_dialog = VariationsDialog(self.state, self, size=size)
        self.batch_dialog.show()

    # --- weights --------------------------------------------------------------------------

    @Slot(str)
    def show_weights_dialog(self, reason: str) -> None:
        if self.weights_dialog is None:
            self.weights_dialog = WeightsDialog(self.state, reason, self)
        self.weights_dialog.reason.setText(friendly_reason(reason))
        self.weights_dialog.show()
        self.weights_dialog.raise_()

    @Slot()
    def open_weights(self) -> None:
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
        dialogs = (self.weights_dialog, self.menus.shortcuts_dialog, self.menus.about_dialog,
                   self.batch_dialog)  # fmt: skip
        for dialog in dialogs:
            if dialog is not None and isValid(dialog):
                dialog.close()  # its own window: it would stay up on its own
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
