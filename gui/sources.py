"""The photo and the paintings the artist dropped in: plain images, no Qt (the views make
their own pixmaps from `preview`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from engine.images import ImageError, load_image

PREVIEW_SIDE = 1600  # enough for thumbnails and the before/after view
THUMBNAIL_SIDE = 320  # a snapshot's, twice the strip's 160 px for sharp high-DPI screens


@dataclass(frozen=True)
class SourceImage:
    label: str  # file name, or "Pasted image"
    image: Image.Image
    preview: Image.Image
    path: str = ""  # the file it came from ("": pasted, restored)

    @classmethod
    def from_pil(cls, image: Image.Image, label: str, path: str = "") -> SourceImage:
        return cls(label, image, thumbnail(image, PREVIEW_SIDE), path)


def thumbnail(image: Image.Image, side: int = THUMBNAIL_SIDE) -> Image.Image:
    """A copy no larger than `side` on its longest edge (the one thumbnail maker)."""
    small = image.copy()
    small.thumbnail((side, side))
    return small


def load_sources(paths: list[str]) -> tuple[list[SourceImage], list[str]]:
    """The files that open, and one message for each that does not."""
    sources, problems = [], []
    for path in paths:
        try:
            sources.append(SourceImage.from_pil(load_image(path), Path(path).name, path))
        except ImageError as error:
            problems.append(str(error))
    return sources, problems


def fitted_blend(blend: tuple[float, ...], count: int) -> tuple[float, ...]:
    """A blend for `count` paintings: one weight each, or () (equal) when it does not fit,
    as with a preset saved for another number of paintings."""
    return blend if len(blend) == count else ()


def blend_weights(blend: tuple[float, ...], count: int) -> tuple[float, ...]:
    """Each painting's weight, as the style rows show it."""
    return fitted_blend(blend, count) or (1.0,) * count
