"""Reading, converting and saving images. Every failure is an ImageError whose message
names the file and the reason in one line, ready to show to a person."""

from __future__ import annotations

import errno
import io
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from engine.datafile import DataFileError, parse_json
from engine.files import ReadError, SaveError, open_regular, write_atomically
from engine.paths import data_folder

# Refuse decompression bombs: 100 megapixels is far above any useful style-transfer input.
MAX_PIXELS = 100_000_000
# Pillow's own limit, for every Image.open in the app: it warns above it (89 megapixels by
# default, which would refuse images under MAX_PIXELS), and refuses twice as many.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF",
                ".tiff": "TIFF", ".webp": "WEBP"}  # fmt: skip
SETTINGS_KEY = "impasto"
MAX_SETTINGS_TEXT = 100_000  # embedded settings are about 1 kB
_EXIF_DESCRIPTION = 0x010E  # ImageDescription, where settings go in JPEG/TIFF/WebP


class ImageError(ValueError):
    """An image that cannot be read or written; str() is a one-line message."""


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file as 8-bit RGB, upright (EXIF orientation applied).

    Accepts RGB, RGBA/LA/P with transparency (composited on white), L, CMYK and 16-bit
    images; takes the first frame of an animation.
    """
    return to_rgb(open_image(path))


def open_image(path: str | os.PathLike) -> Image.Image:
    """The image in the regular file `path`, decoded and upright in its own mode (a mask
    keeps its alpha): every image file Impasto reads comes through here, so each is
    refused the same way (not a regular file, empty, over MAX_PIXELS, damaged)."""
    path = Path(path)
    try:
        with open_regular(path) as file:
            if os.fstat(file.fileno()).st_size == 0:
                raise ImageError(f"{path}: file is empty")
            return _decode(file, path)
    except ReadError as error:
        raise ImageError(str(error)) from None
    except OSError as error:
        raise ImageError(f"{path}: cannot read ({error.strerror or error})") from error


def image_from_bytes(data: bytes, name: str) -> Image.Image:
    """load_image for a file's bytes that came from elsewhere (a Ray worker gets its inputs
    through the object store, not a shared disk); `name` is the file the messages name."""
    if not data:
        raise ImageError(f"{name}: file is empty")
    return to_rgb(_decode(io.BytesIO(data), Path(name)))


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding its pixels: a batch checks
    every input before it starts, and decodes each where it runs. ImageError if the file
    is missing or not an image."""
    path = Path(path)
    try:
        with open_regular(path) as file, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(file) as image:
                return image.size
    except ReadError as error:
        raise ImageError(str(error)) from None
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as error:
        raise ImageError(f"{path}: not an image file Impasto can read") from error


def _decode(file, path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on damaged tags
            # Pillow only warns over its limit (MAX_PIXELS, set below): here it is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"{path}: image is too large ({width}×{height} px; the limit is "
                    f"{MAX_PIXELS // 1_000_000} megapixels)"
                )
            image.seek(0)
            image.load()
    except ImageError:
        raise
    except UnidentifiedImageError as error:
        raise ImageError(f"{path}: not an image file Impasto can read") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"{path}: image is too large (the limit is "
                         f"{MAX_PIXELS // 1_000_000} megapixels)") from error  # fmt: skip
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"{path}: the image data is damaged or truncated ({error})") from error
    except Exception as error:  # Pillow plugins raise assorted types on hostile input
        raise ImageError(f"{path}: the image data is damaged ({type(error).__name__})") from error
    if image.mode == "F" and not np.isfinite(np.asarray(image)).all():
        # A float TIFF of NaN would otherwise become a black picture (with numpy warnings).
        raise ImageError(f"{path}: the image holds NaN or infinite pixel values")
    try:
        image = ImageOps.exif_transpose(image) or image
    except Exception:  # a broken EXIF block should not cost the user the picture
        pass
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB. Transparency is composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode != "F" and pixels.max() > 255 else 255.0
        if image.mode == "F":
            top = max(1.0, float(pixels.max()))
        image = Image.fromarray(np.clip(pixels / top * 255 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def resize_longest(image: Image.Image, longest: int) -> Image.Image:
    """Resize so the longest side is `longest` px, keeping the aspect ratio."""
    width, height = image.size
    scale = longest / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """8-bit RGB image -> (1, 3, H, W) float tensor in [0, 1]."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def to_image(tensor: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> 8-bit RGB image."""
    array = tensor.detach().squeeze(0).clamp(0, 1).mul(255).round().byte()
    return Image.fromarray(array.permute(1, 2, 0).cpu().numpy(), "RGB")


def save_image(image: Image.Image, path: str | os.PathLike, settings: dict | None = None) -> Path:
    """Save by extension (PNG, JPEG, TIFF, WebP), atomically, with `settings` embedded.

    Written with engine.files.write_atomically: a failed save (disk full, no permission)
    leaves any existing file intact and no temporary file beside it.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path}: unknown file type; use one of {', '.join(SAVE_FORMATS)}")
    options = _metadata_options(fmt, settings)
    if fmt == "JPEG":
        options.update(quality=95, subsampling=0)
    elif fmt == "WEBP":
        options.update(quality=95)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImageError(f"{path}: folder {folder} does not exist")
    rgb = image.convert("RGB")
    try:
        write_atomically(path, lambda file: rgb.save(file, format=fmt, **options))
    except SaveError as error:
        if error.errno in (errno.EACCES, errno.EPERM):
            raise ImageError(f"{path}: cannot save here (permission denied)") from error
        raise ImageError(str(error)) from error  # "could not save (the disk is full)"
    return path


def keep_unsaved(image: Image.Image, path: str | os.PathLike,
                 settings: dict | None = None) -> Path | None:  # fmt: skip
    """Save a picture whose save to `path` failed where the user can find it: beside `path`
    under a short new name, else in the data folder's `unsaved` folder. Its path, or None
    if neither could be written. A finished run's picture is never simply lost."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for folder in (Path(path).parent, data_folder() / "unsaved"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            kept, number = folder / f"impasto-unsaved-{stamp}.png", 1
            while kept.exists():
                number += 1
                kept = folder / f"impasto-unsaved-{stamp}-{number}.png"
            return save_image(image, kept, settings)
        except (ImageError, OSError):
            continue
    return None


def read_settings(path: str | os.PathLike) -> dict | None:
    """The settings embedded by save_image, or None if the file has none or they cannot be
    used (not JSON, too long, too deep: the same checks as every data file)."""
    try:
        with open_regular(path) as file, warnings.catch_warnings():
            # Only the text is read, never the pixels: any size is safe here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                text = image.info.get(SETTINGS_KEY) or image.getexif().get(_EXIF_DESCRIPTION)
    except Image.DecompressionBombError:  # Pillow refuses even the header of such a file
        return None
    if not isinstance(text, (str, bytes)) or not text or len(text) > MAX_SETTINGS_TEXT:
        return None
    try:
        data = parse_json(text, path)
    except DataFileError:
        return None
    return data if isinstance(data, dict) else None


def _metadata_options(fmt: str, settings: dict | None) -> dict:
    if not settings:
        return {}
    text = json.dumps(settings, sort_keys=True)
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt(SETTINGS_KEY, text)
        return {"pnginfo": info}
    exif = Image.Exif()
    exif[_EXIF_DESCRIPTION] = text
    return {"exif": exif.tobytes()}
