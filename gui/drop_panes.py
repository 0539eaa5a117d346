"""Drop panes for the content photo and the style paintings.

Each pane takes files dropped from the file manager, a click (file dialog) or a paste
(Ctrl+V while it has focus). The panes only call AppState and redraw on its signals.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.elided_label import ElidedLabel
from gui.qimage import qimage_to_pil, thumbnail_pixmap
from gui.state import AppState, SourceImage

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp *.gif);;All files (*)"


class DropPane(QFrame):
    """A frame that accepts image files by drop, click or paste."""

    filesChosen = Signal(list)  # local paths

    def __init__(self, state: AppState, title: str, multiple: bool, parent=None):
        super().__init__(parent)
        self.state = state
        self.multiple = multiple
        self.setObjectName("DropPane")
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{title}: drop image files here, click to browse, or paste (Ctrl+V)")
        self._set_hover(False)

    def _set_hover(self, hover: bool) -> None:
        self.setProperty("hover", hover)
        self.style().unpolish(self)
        self.style().polish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if (mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())) or mime.hasImage():
            event.acceptProposedAction()
            self._set_hover(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_hover(False)
        mime = event.mimeData()
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.filesChosen.emit(paths if self.multiple else paths[:1])
        elif mime.hasImage():
            event.acceptProposedAction()
            self.take_image(mime.imageData())
        else:
            event.ignore()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.pos()):
            self.browse()

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        else:
            super().keyPressEvent(event)

    def browse(self) -> None:
        folder = self.state.preferences.get("open_folder") or ""
        if self.multiple:
            paths, _ = QFileDialog.getOpenFileNames(self, "Add style images", folder, IMAGE_FILTER)
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Open photo", folder, IMAGE_FILTER)
            paths = [path] if path else []
        if paths:
            self.filesChosen.emit(paths)

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime else []
        if paths:
            self.filesChosen.emit(paths if self.multiple else paths[:1])
        elif mime is not None and mime.hasImage():
            self.take_image(mime.imageData())
        else:
            self.state.message.emit("error", "The clipboard holds no image.")

    def take_image(self, image) -> None:
        raise NotImplementedError


class ContentPane(DropPane):
    def __init__(self, state: AppState, parent=None):
        super().__init__(state, "Photo", multiple=False, parent=parent)
        self.thumb = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.thumb.setMinimumHeight(150)
        self.thumb.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.caption = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.caption.setObjectName("Caption")
        layout = QVBoxLayout(self)
        layout.addWidget(self.thumb, 1)
        layout.addWidget(self.caption)
        self.filesChosen.connect(self._on_files)
        state.contentChanged.connect(self.refresh)
        self.refresh()

    @Slot(list)
    def _on_files(self, paths: list) -> None:
        self.state.load_content(paths[0])

    def take_image(self, image) -> None:
        self.state.set_content_image(qimage_to_pil(image), "Pasted image")

    @Slot()
    def refresh(self) -> None:
        source = self.state.content
        if source is None:
            self.thumb.setPixmap(QPixmap())
            self.thumb.setText("Drop a photo here\nor click to open")
            self.caption.setText("")
            return
        self._show(source)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.state.content is not None:
            self._show(self.state.content)

    def _show(self, source: SourceImage) -> None:
        box = QSize(max(32, self.thumb.width()), max(32, self.thumb.height()))
        self.thumb.setPixmap(thumbnail_pixmap(source.preview, box, self.devicePixelRatioF()))
        width, height = source.image.size
        self.caption.setText(f"{source.label}\n{width} × {height} px")


class StyleRow(QWidget):
    """One style image: thumbnail, name and size, blend weight, remove button."""

    def __init__(self, state: AppState, index: int, source: SourceImage, parent=None):
        super().__init__(parent)
        self.state, self.index = state, index
        thumb = QLabel()
        thumb.setFixedSize(56, 56)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        thumb.setPixmap(thumbnail_pixmap(source.preview, QSize(56, 56), self.devicePixelRatioF()))
        width, height = source.image.size
        name = ElidedLabel(source.label)
        size = QLabel(f"{width}×{height}", objectName="Caption")
        size.setMinimumWidth(size.sizeHint().width())  # whole, or the pane grows
        # The name has the row's whole width above the size, the weight and ✕: beside them
        # it had 80 px at 1280 px and "starry_night.jpg" showed as "star…ight.jpg".
        details = QHBoxLayout()
        details.setSpacing(4)
        details.addWidget(size, 1)
        self.weight = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=10.0, singleStep=0.1)
        self.weight.setValue(state.style_weights()[index])  # the style_blend setting
        self.weight.setToolTip("Blend weight of this painting")
        self.weight.setMaximumWidth(64)
        # Never squeezed below its own text: in the narrowest pane it showed "1" for 1.00.
        self.weight.setMinimumWidth(min(64, self.weight.sizeHint().width()))
        self.weight.setKeyboardTracking(False)  # one change per edit: each resets L-BFGS
        self.weight.valueChanged.connect(self._on_weight)
        self.remove = QToolButton(text="✕", autoRaise=True)
        self.remove.setToolTip("Remove this painting")
        self.remove.setEnabled(not state.active)
        self.remove.clicked.connect(self._on_remove)
        details.addWidget(self.weight)
        details.addWidget(self.remove)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(name)
        text.addLayout(details)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(thumb)
        layout.addLayout(text, 1)

    @Slot(float)
    def _on_weight(self, value: float) -> None:
        self.state.set_style_weight(self.index, value)

    @Slot()
    def _on_remove(self) -> None:
        self.state.remove_style(self.index)


class StylePane(DropPane):
    def __init__(self, state: AppState, parent=None):
        super().__init__(state, "Paintings", multiple=True, parent=parent)
        self.rows = QVBoxLayout()
        self.rows.setSpacing(2)
        self.hint = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.hint.setObjectName("Caption")
        layout = QVBoxLayout(self)
        layout.addLayout(self.rows)
        layout.addWidget(self.hint, 1)
        self.filesChosen.connect(self._on_files)
        state.stylesChanged.connect(self.refresh)
        state.statusChanged.connect(self.refresh)
        self._shown: list = []
        self.refresh()

    @Slot(list)
    def _on_files(self, paths: list) -> None:
        self.state.add_styles(paths)

    def take_image(self, image) -> None:
        self.state.add_style_image(qimage_to_pil(image), "Pasted image")

    @Slot()
    def refresh(self, *_) -> None:
        shown = [id(s) for s in self.state.styles] + [self.state.active]
        if shown == self._shown:
            return  # a weight typed in a row: the row already shows it, keep its focus
        self._shown = shown
        while self.rows.count():
            widget = self.rows.takeAt(0).widget()
            widget.deleteLater()
        for index, source in enumerate(self.state.styles):
            self.rows.addWidget(StyleRow(self.state, index, source))
        if self.state.styles:
            self.hint.setText("Drop more paintings to blend styles")
        else:
            self.hint.setText("Drop one or more paintings here\nor click to open")
