"""Image files that are not pictures Impasto can use (issue 17): float pixels that are not
finite, and names that are not regular files."""

from __future__ import annotations

import os
import threading
import warnings

import numpy as np
import pytest
from PIL import Image

from engine.images import ImageError, load_image


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_float_tiff_with_non_finite_pixels_is_refused(tmp_path, value):
    pixels = np.full((16, 16), 0.5, np.float32)
    pixels[3, 4] = value
    path = tmp_path / "float.tif"
    Image.fromarray(pixels, "F").save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way either
        with pytest.raises(ImageError, match="NaN or infinite pixel values"):
            load_image(path)


def test_a_finite_float_tiff_still_loads(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16), "F").save(path)
    assert load_image(path).size == (16, 16)


def test_a_fifo_or_a_device_is_not_an_image(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    errors = []
    reader = threading.Thread(target=lambda: errors.append(_error(fifo)))
    reader.start()
    reader.join(5)
    if reader.is_alive():
        with open(fifo, "wb"):
            pass
        reader.join(5)
        pytest.fail("opening a FIFO as an image hung")
    assert "not a regular file" in errors[0]
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    assert "not a regular file" in _error(link)


def _error(path) -> str:
    try:
        load_image(path)
    except ImageError as error:
        return str(error)
    return ""
