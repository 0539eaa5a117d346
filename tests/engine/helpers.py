"""Small synthetic images for engine tests."""

import numpy as np
from PIL import Image


def photo(width: int = 64, height: int = 48, seed: int = 1) -> Image.Image:
    """A smooth 'photo': colour gradients with a few soft shapes."""
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    rng = np.random.default_rng(seed)
    red = 0.5 + 0.4 * np.sin(6 * x + rng.uniform(0, 3))
    green = 0.5 + 0.4 * np.cos(5 * y + rng.uniform(0, 3))
    blue = 0.5 + 0.3 * np.sin(4 * (x + y))
    array = np.stack([red, green, blue], axis=-1)
    return Image.fromarray((array.clip(0, 1) * 255).astype(np.uint8))


def painting(width: int = 64, height: int = 64, seed: int = 2) -> Image.Image:
    """A 'painting': blue-yellow strokes with strong high-frequency texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    stripes = (np.sin((x + 0.7 * y) * 1.3) > 0).astype(float)
    noise = rng.uniform(0, 0.3, size=(height, width))
    red = 0.15 + 0.8 * stripes * (1 - noise)
    green = 0.2 + 0.6 * stripes + noise
    blue = 0.9 - 0.7 * stripes
    array = np.stack([red, green, blue], axis=-1)
    return Image.fromarray((array.clip(0, 1) * 255).astype(np.uint8))
