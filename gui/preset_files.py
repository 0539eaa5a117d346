"""What Load preset says about a file that is not a preset, and the settings an Impasto
picture carries (save_image embeds the run's settings in every PNG, JPEG, TIFF, WebP)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from engine.files import open_regular
from engine.images import read_settings
from engine.settings import RunSettings

PRESET_FILTER = ("Impasto preset or picture (*.json *.png *.jpg *.jpeg *.tif *.tiff *.webp);;"
                 "Impasto preset (*.json)")  # fmt: skip
NOT_A_PRESET = "is not an Impasto preset (File ▸ Save settings as preset… writes those)"


@dataclass(frozen=True)
class PictureSettings:
    text: str  # what to tell the artist
    settings: RunSettings | None  # what "Use this picture's settings" applies, if any
    preprocessing: str | None = None  # with settings.model, the model that made it


def picture_settings(path: str, current: RunSettings) -> PictureSettings | None:
    """The settings embedded in the picture at `path`, ready to run on this computer (its
    device and precision are kept); None when the file is not a picture."""
    name = Path(path).name
    try:
        # open_regular: a FIFO would block the window for good.
        with open_regular(path) as file, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # not decoded
            with Image.open(file) as image:
                image.verify()
        embedded = read_settings(path)  # through the data file checks (engine/datafile.py)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError,
            Image.DecompressionBombError):  # fmt: skip
        return None
    if embedded is None:
        return PictureSettings(f"{name} is a picture without Impasto settings, not a preset.",
                               None)  # fmt: skip
    try:
        settings = RunSettings.from_dict(embedded)
        # The picture's look; this computer's device. Its start image was the run's own.
        init = settings.init if settings.init in ("content", "noise") else "content"
        settings = settings.replace(device=current.device, precision=current.precision,
                                    init=init, style_blend=())  # fmt: skip
    except ValueError as error:
        return PictureSettings(f"{name} holds Impasto settings this version cannot use "
                               f"({error}).", None)  # fmt: skip
    preprocessing = embedded.get("preprocessing")
    return PictureSettings(f"{name} is a picture, not a preset. It holds the settings it was "
                           "made with.", settings,
                           preprocessing if isinstance(preprocessing, str) else None)  # fmt: skip


def not_a_preset_text(path: str, reason: str) -> str:
    """One line for a file Load preset cannot use; no raw decoder messages."""
    name = Path(path).name
    if any(word in reason for word in ("UTF-8", "JSON", "codec")):
        return f"{name} {NOT_A_PRESET}."
    return f"{name}: not a usable preset ({reason})"
