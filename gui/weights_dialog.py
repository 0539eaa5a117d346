"""Everything about model weights in the GUI: the default network provider and the
first-run dialog (download with progress and cancel, or import a file). The dialog is
not modal, so the rest of the window stays usable while weights download."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from engine.catalogue import default_model_name, known_models, model_spec
from engine.run import Network
from engine.vgg import WeightsError
from engine.weights_download import ProgressInfo
from engine.weights_store import find_cached_torchvision_files, find_installed, load_installed
from gui.state import AppState

WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt *.bin);;All files (*)"


def default_network_provider(model: str | None = None) -> Network:
    """The installed catalogue model `model` (None: the catalogue default); WeightsError
    when it is not installed."""
    state_dict, spec = load_installed(model or default_model_name())
    return Network(state_dict, spec.arch, spec.preprocessing)


def friendly_reason(reason: str) -> str:
    """The weights manager's message without its command-line instructions."""
    if "is not installed" in reason:
        first = reason.split(";")[0].strip()
        return first[:1].upper() + first[1:] + " yet."
    return reason


def model_title(name: str) -> str:
    """The catalogue title of model `name` ("VGG16, torchvision IMAGENET1K_V1"), else `name`."""
    try:
        return model_spec(name).title
    except WeightsError:  # a name the catalogue does not know
        return name


def any_model_installed() -> bool:
    """Whether some catalogue model is installed (a damaged manifest counts as not)."""
    try:
        return any(find_installed(spec.name) for spec in known_models())
    except WeightsError:  # a damaged manifest: that model is not usable
        return False


class WeightsDialog(QDialog):
    def __init__(self, state: AppState, reason: str, parent=None):
        super().__init__(parent)
        self.state = state
        self._update_title()
        self.setModal(False)
        self.setMinimumWidth(460)
        self.intro = QLabel(
            "Impasto needs the weights of a VGG network trained on ImageNet to see style. "
            "They are downloaded once (about 550 MB) or imported from a file you have."
        )
        self.intro.setWordWrap(True)
        self.reason = QLabel(friendly_reason(reason))
        self.reason.setObjectName("Caption")
        self.reason.setWordWrap(True)
        self.model = QComboBox()
        for spec in known_models():
            self.model.addItem(f"{spec.title} ({spec.download_size / 2**20:.0f} MiB)", spec.name)
        self.model.setCurrentIndex(max(0, self.model.findData(default_model_name())))
        self.cached = find_cached_torchvision_files()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.setDefault(True)
        self.import_button = QPushButton("Import file…")
        self.cached_button = QPushButton("Use copy from torch cache")
        self.cached_button.setVisible(bool(self.cached))
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setVisible(False)
        self.close_button = QPushButton("Close")
        self.download_button.clicked.connect(self._on_download)
        self.import_button.clicked.connect(self._on_import)
        self.cached_button.clicked.connect(self._on_cached)
        self.cancel_button.clicked.connect(self._on_cancel)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.import_button, self.cached_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.reason)
        layout.addWidget(self.model)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        state.downloadProgress.connect(self._on_progress)
        state.weightsReady.connect(self._on_ready)
        state.weightsFailed.connect(self._on_failed)

    def _update_title(self) -> None:
        # Opened from the menu with a model installed, nothing is "needed".
        installed = any_model_installed()
        self.setWindowTitle("Model weights" if installed else "Model weights needed")

    def showEvent(self, event) -> None:
        self._update_title()  # the dialog is kept and shown again after an install
        super().showEvent(event)

    def _busy(self, busy: bool) -> None:
        for button in (self.download_button, self.import_button, self.cached_button):
            button.setEnabled(not busy)
        self.model.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)

    def _fit_height(self) -> None:
        """Grow to the height the wrapped texts need at this width. A shown dialog keeps its
        size when the progress bar and Cancel appear, and squeezes the intro to one line."""
        layout = self.layout()
        layout.activate()
        needed = layout.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    @Slot()
    def _on_download(self) -> None:
        self._busy(True)
        self.progress.setRange(0, 0)
        self.status.setText("Connecting…")
        self._fit_height()
        self.state.download_weights(self.model.currentData() or "vgg19")

    @Slot()
    def _on_import(self) -> None:
        folder = self.state.preferences.get("open_folder") or ""
        path, _ = QFileDialog.getOpenFileName(self, "Import weights", folder, WEIGHTS_FILTER)
        if path:
            self._import(path)

    @Slot()
    def _on_cached(self) -> None:
        spec, path = self.cached[0]
        self._import(str(path), spec.name)

    def _import(self, path: str, model: str | None = None) -> None:
        """Import `path` as `model`, by default the model chosen in the combo."""
        model = model or self.model.currentData() or ""
        self._busy(True)
        self.cancel_button.setVisible(False)
        self.progress.setRange(0, 0)
        what = f" as {model_title(model)}" if model else ""
        self.status.setText(f"Checking and importing the weights{what}…")
        self._fit_height()
        self.state.import_weights(path, model)

    @Slot()
    def _on_cancel(self) -> None:
        self.state.cancel_download()
        self.status.setText("Cancelling…")

    @Slot(object)
    def _on_progress(self, info: ProgressInfo) -> None:
        fraction = info.fraction
        done, speed = info.bytes_done / 2**20, info.bytes_per_second / 2**20
        if fraction is None:
            self.progress.setRange(0, 0)
            self.status.setText(f"{done:.0f} MiB at {speed:.1f} MiB/s")
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(fraction * 1000))
            total = info.bytes_total / 2**20
            self.status.setText(f"{done:.0f} of {total:.0f} MiB at {speed:.1f} MiB/s")

    @Slot(str)
    def _on_ready(self, name: str) -> None:
        self._busy(False)
        title = model_title(name)
        self.status.setText(f"{title} is installed. Press Start.")
        self.state.message.emit("info", f"Model weights installed: {title}. Press Start.")
        self.close()

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        self._busy(False)
        self.status.setText(text)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._fit_height()  # a reason can take several lines
