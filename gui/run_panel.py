"""Start / Pause / Stop, the progress numbers and the loss plot, above the settings."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.loss_plot import LossPlot
from gui.state import IDLE, PAUSED, PAUSING, RUNNING, AppState, elapsed_text


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
        self.larger = QPushButton("Continue at 2× size")
        self.larger.setToolTip("Paint on from this picture at twice its size (Ctrl+Shift+Return)")
        self.larger.setVisible(False)
        self.progress = QProgressBar(textVisible=False)
        self.progress.setMaximumHeight(8)
        self.iteration = QLabel("–", objectName="BigNumber")
        self.speed = QLabel("–", objectName="BigNumber")
        self.left = QLabel("–", objectName="BigNumber")
        self.left.setToolTip(TIME_LEFT_TIP)
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
        layout.addWidget(self.larger)
        layout.addWidget(self.progress)
        layout.addLayout(numbers)
        layout.addWidget(self.plot)
        self.start.clicked.connect(self.start_run)
        self.pause.clicked.connect(state.toggle_pause)
        self.stop.clicked.connect(state.stop)
        self.larger.clicked.connect(self.continue_larger)
        for signal in (state.statusChanged, state.contentChanged, state.stylesChanged):
            signal.connect(self.refresh)
        state.progressChanged.connect(self._on_progress)
        self.refresh()

    @Slot()
    def start_run(self) -> None:
        self.state.start()

    @Slot()
    def continue_larger(self) -> None:
        self.state.continue_larger()

    @Slot()
    def refresh(self, *_) -> None:
        status = self.state.status
        self.larger.setVisible(self.state.can_continue_larger())  # once a run has finished
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
        self.left.setText(time_left_text(report, rate))


TIME_LEFT_TIP = (
    "The run stops once the picture settles: this is when it is heading to "
    "settle. The bar counts to the most steps it may take."
)


def time_left_text(report, rate: float) -> str:
    """ "about 12 s" while the settle watch expects the run to end before its ceiling
    (engine/convergence.py); "40 s" to the ceiling otherwise; "–" before a rate is known."""
    if rate <= 0:
        return "–"
    expected = min(report.expected_steps or report.total_steps, report.total_steps)
    text = elapsed_text((expected - report.iteration) / rate)
    return f"about {text}" if expected < report.total_steps else text


def step_count_text(done: int, total: int, scales: int) -> str:
    """ "41 / 300 (2 scales)": the total counts every scale of a coarse-to-fine run, so the
    scales are named, or 300 would contradict "Steps per scale: 150"."""
    return f"{done} / {total}" + (f" ({scales} scales)" if scales > 1 else "")
