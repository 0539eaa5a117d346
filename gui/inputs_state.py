"""The inputs part of the GUI's state: the photo and the paintings, their blend weights,
and the files opened lately (File ▸ Open Recent). AppState (gui/state.py) is made of it
and holds the signals it emits."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from gui.recent_files import forget_file, remember_file
from gui.sources import SourceImage, blend_weights, load_sources


class InputsPart:
    """The photo, the paintings and the recent files. A part of AppState, which has the
    signals, the settings and the preferences these methods use."""

    def load_content(self, path: str) -> bool:
        image = self._load(path)
        if image is not None:
            self.set_content_image(image, Path(path).name, path)
            self._remember_folder("open_folder", path)
            remember_file(self.preferences, "photo", path)
            self.recentChanged.emit()
        return image is not None

    def set_content_image(self, image: Image.Image, label: str, path: str = "") -> None:
        self.content = SourceImage.from_pil(image, label, path)
        self.finished_text = ""
        self.resume_image = None  # a restored image belongs to the old photo
        if not self.active:  # so do the last result and its snapshots: the canvas shows the photo
            self.frame = self.report = self.viewing = None
            self._keep_snapshots_to(-1)
        self.contentChanged.emit()

    def add_style(self, path: str) -> bool:
        return self.add_styles([path]) == 1

    def add_styles(self, paths: list[str]) -> int:
        """Add several paintings (a drop); the files that fail are named in one message."""
        if self.active:
            self.message.emit("info", "Style images can be added when the run is stopped.")
            return 0
        sources, problems = load_sources(paths)
        for source in sources:
            self._add_source(source)
            remember_file(self.preferences, "painting", source.path)
        if sources:
            self.recentChanged.emit()
        if paths and len(problems) < len(paths):
            self._remember_folder("open_folder", paths[-1])
        if len(problems) == 1:
            self.message.emit("error", problems[0])
        elif problems:
            self.message.emit("error", f"{len(problems)} files could not be opened: "
                              + "; ".join(problems))  # fmt: skip
        return len(sources)

    def open_recent(self, kind: str, path: str) -> bool:
        """File ▸ Open Recent: open `path` again as a photo or a painting. A file that is
        gone is said so and leaves the list."""
        if not Path(path).is_file():
            forget_file(self.preferences, kind, path)
            self.recentChanged.emit()
            self.message.emit("error", f"{Path(path).name} is no longer there ({path}).")
            return False
        return self.load_content(path) if kind == "photo" else self.add_style(path)

    def clear_recent(self) -> None:
        self.preferences.set("recent_files", [])
        self.recentChanged.emit()

    def add_style_image(self, image: Image.Image, label: str) -> None:
        if self.active:
            self.message.emit("info", "Style images can be added when the run is stopped.")
            return
        self._add_source(SourceImage.from_pil(image, label))

    def _add_source(self, source: SourceImage) -> None:
        blend = self.settings.style_blend
        self.styles.append(source)
        if blend:  # the new painting joins at weight 1
            self._use_settings(self.settings.replace(style_blend=(*blend, 1.0)), record=False)
        self.stylesChanged.emit()

    def remove_style(self, index: int) -> None:
        if self.active or not 0 <= index < len(self.styles):
            return
        weights = list(self.style_weights())
        del self.styles[index], weights[index]
        self._use_settings(self.settings.replace(style_blend=tuple(weights)), record=False)
        self.stylesChanged.emit()

    def style_weights(self) -> tuple[float, ...]:
        """Each painting's blend weight, as its row shows it (the style_blend setting)."""
        return blend_weights(self.settings.style_blend, len(self.styles))

    def set_style_weight(self, index: int, weight: float) -> None:
        weights = list(self.style_weights())
        if not 0 <= index < len(weights) or weights[index] == weight:
            return
        weights[index] = weight
        if sum(weights) <= 0:  # no painting at all: equal weights, as before any was set
            weights = []
        self.set_settings(style_blend=tuple(weights))
