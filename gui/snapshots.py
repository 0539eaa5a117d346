"""The strip of snapshots taken every N steps: view, restore as the start, or save."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QMenu

from gui.qimage import thumbnail_pixmap
from gui.state import AppState

THUMB = QSize(96, 72)


class SnapshotStrip(QListWidget):
    saveRequested = Signal(int)  # index; the window asks where to save

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(THUMB)
        self.setFixedHeight(THUMB.height() + 42)
        self.setHorizontalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setToolTip("Snapshots: click to view, right-click to restore or save")
        self.itemClicked.connect(self._on_clicked)
        # One right-click menu, owned by the strip and reused: none is left behind per click.
        self._menu = QMenu(self)
        self._menu_index = 0  # the snapshot right-clicked last
        self._menu.addAction("View").triggered.connect(self._view_chosen)
        self._menu.addAction("Continue from here").triggered.connect(self._continue_from_chosen)
        self._menu.addAction("Save…").triggered.connect(self._save_chosen)
        self._menu.addAction("Back to live view").triggered.connect(self._view_live)
        self.customContextMenuRequested.connect(self._on_menu)
        state.snapshotsChanged.connect(self.refresh)
        # Until the first snapshot the strip would be a large blank box under the canvas;
        # refresh shows it when one comes (a new state has none yet).
        self.hide()

    @Slot()
    def refresh(self) -> None:
        snapshots = self.state.snapshots
        shown = [self.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.count())]
        if shown != [f"{snap.iteration}:{id(snap)}" for snap in snapshots[: len(shown)]]:
            self.clear()  # some gave way to newer ones (continued from an earlier snapshot)
        ratio = self.devicePixelRatioF()
        for snapshot in snapshots[self.count() :]:
            icon = QIcon(thumbnail_pixmap(snapshot.thumbnail, THUMB, ratio))
            item = QListWidgetItem(icon, f"step {snapshot.iteration}")
            item.setData(Qt.ItemDataRole.UserRole, f"{snapshot.iteration}:{id(snapshot)}")
            self.addItem(item)
        if self.count():
            self.scrollToItem(self.item(self.count() - 1))
        self.setVisible(bool(self.count()))

    @Slot(QListWidgetItem)
    def _on_clicked(self, item: QListWidgetItem) -> None:
        index = self.row(item)
        self.state.view_snapshot(None if index == self.state.viewing else index)
        if self.state.viewing is None:
            self.clearSelection()

    @Slot(QPoint)
    def _on_menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        self._menu_index = self.row(item)
        self._menu.exec(self.viewport().mapToGlobal(pos))

    @Slot()
    def _view_chosen(self) -> None:
        self.state.view_snapshot(self._menu_index)

    @Slot()
    def _continue_from_chosen(self) -> None:
        self.state.restore_snapshot(self._menu_index)

    @Slot()
    def _save_chosen(self) -> None:
        self.saveRequested.emit(self._menu_index)

    @Slot()
    def _view_live(self) -> None:
        self.state.view_snapshot(None)
