"""A batch's contact sheet: one image, every run's thumbnail labelled with what differs."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageFont, ImageOps

PADDING = 8
LABEL_LINES = 3
BACKGROUND, INK, EMPTY = (255, 255, 255), (20, 20, 20), (200, 200, 200)


def contact_sheet(tiles: list[tuple[Image.Image | None, str]], thumbnail: int = 160) -> Image.Image:
    """A grid of (picture, label) tiles, as square as the count allows, in order. A tile
    without a picture (a run that failed or was cancelled) is a grey square; its label
    says why. Each picture fits a `thumbnail` px square, its aspect ratio kept."""
    font = ImageFont.load_default()
    line_height = _line_height(font)
    columns = max(1, math.ceil(math.sqrt(len(tiles))))
    rows = max(1, math.ceil(len(tiles) / columns))
    cell_w = thumbnail + PADDING
    cell_h = thumbnail + PADDING + LABEL_LINES * line_height
    sheet = Image.new("RGB", (columns * cell_w + PADDING, rows * cell_h + PADDING), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for number, (picture, label) in enumerate(tiles):
        left = PADDING + (number % columns) * cell_w
        top = PADDING + (number // columns) * cell_h
        if picture is None:
            draw.rectangle((left, top, left + thumbnail - 1, top + thumbnail - 1), fill=EMPTY)
        else:
            # Scaled to fit, up as well as down: a 48 px test run fills its square too.
            thumb = ImageOps.contain(picture.convert("RGB"), (thumbnail, thumbnail),
                                     Image.Resampling.LANCZOS)  # fmt: skip
            # Centred in its square, so a row of landscape and portrait pictures lines up.
            sheet.paste(thumb, (left + (thumbnail - thumb.width) // 2,
                                top + (thumbnail - thumb.height) // 2))  # fmt: skip
        for line, text in enumerate(_wrap(label, thumbnail, draw, font)[:LABEL_LINES]):
            draw.text((left, top + thumbnail + 2 + line * line_height), text, fill=INK, font=font)
    return sheet


def _line_height(font) -> int:
    left, top, right, bottom = font.getbbox("Ag")
    return bottom - top + 4


def _wrap(text: str, width: int, draw: ImageDraw.ImageDraw, font) -> list[str]:
    """Words onto lines no wider than `width` px; a word too long alone is cut."""
    lines: list[str] = []
    for word in text.split():
        while draw.textlength(word, font=font) > width and len(word) > 1:
            word = word[:-1]
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines
