"""The sizes a run works at: the side the paintings are seen at, and the check that every
input is big enough for the sizes asked for. (The style targets themselves are made in
engine/regions.py, for plain and regional runs alike.)"""

from __future__ import annotations

import math

from PIL import Image

from engine.settings import RunSettings

# Below this, the deepest style layer (after four poolings) has no pixels left.
MIN_SIDE = 16


class InputTooSmall(ValueError):
    """An input image too small or too thin to run at the requested size."""

    def naming(self, content: object, styles: list) -> str:
        """The message led by the file it is about ("style image 2" -> styles[1]'s name)."""
        message = str(self)
        if message.startswith("content image"):
            return f"{content}: {message}"
        for number, style in enumerate(styles, start=1):
            if message.startswith(f"style image {number} "):
                return f"{style}: {message}"
        return message


def style_side(settings: RunSettings, size: int) -> int:
    """The longest side the paintings are seen at when the photo's is `size`."""
    return max(MIN_SIDE, round(size * settings.style_scale))


def check_sizes(content: Image.Image, styles: list[Image.Image], settings: RunSettings) -> None:
    """Raise InputTooSmall, naming the image, when one would be under MIN_SIDE px across."""
    smallest = min(settings.sizes)
    checks = [("content image", content, smallest)]
    checks += [(f"style image {i + 1}", s, style_side(settings, smallest))
               for i, s in enumerate(styles)]  # fmt: skip
    for label, image, longest in checks:
        width, height = image.size
        short = min(width, height) * longest / max(width, height)
        if short < MIN_SIDE:
            raise InputTooSmall(
                f"{label} is too small or too thin ({width}×{height} px): at {longest} px its "
                f"shorter side would be {math.floor(short)} px, and at least {MIN_SIDE} are needed"
            )

