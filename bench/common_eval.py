"""The common evaluator: one loss, computed the same way on every tool's output image.

It is written here on purpose, independent of engine/losses.py and of every peer: a plain
VGG19 forward pass (F.conv2d on the shared weights file), Caffe preprocessing (BGR, 0-255,
mean subtracted), content = MSE of relu4_2 features, style = sum over relu1_1..relu5_1 of
the MSE between Gram matrices divided by C*H*W. Total = content_weight * content +
style_weight * style (no total variation: the tools define it differently).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_BLOCKS = (2, 2, 4, 4, 4)  # VGG19 convolutions per block
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def load_rgb(path: str | Path, longest: int | None = None, size=None) -> torch.Tensor:
    """An image file as a (1, 3, H, W) tensor in [0, 1], resized to `longest` or `size`."""
    image = Image.open(path).convert("RGB")
    if size is None and longest is not None:
        scale = longest / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size is not None and tuple(size) != image.size:
        image = image.resize(tuple(size), Image.Resampling.LANCZOS)
    array = np.asarray(image, dtype=np.float32) / 255
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


def features(state: dict[str, torch.Tensor], image: torch.Tensor) -> dict[str, torch.Tensor]:
    """Named relu activations of VGG19 for an RGB [0, 1] image."""
    mean = torch.tensor(_CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    x = image.flip(1) * 255 - mean
    wanted, found, index = set(CONTENT_LAYERS + STYLE_LAYERS), {}, 0
    for block, convs in enumerate(_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            x = F.conv2d(
                x, state[f"features.{index}.weight"], state[f"features.{index}.bias"], padding=1
            ).relu()
            index += 2
            if f"relu{block}_{conv}" in wanted:
                found[f"relu{block}_{conv}"] = x
            if len(found) == len(wanted):
                return found
        x = F.max_pool2d(x, 2)
        index += 1
    return found


def gram(x: torch.Tensor) -> torch.Tensor:
    _, c, h, w = x.shape
    flat = x.reshape(c, h * w)
    return flat @ flat.T / (c * h * w)


class CommonEvaluator:
    def __init__(
        self,
        weights: str | Path,
        content: str | Path,
        style: str | Path,
        content_weight: float,
        style_weight: float,
    ):
        self.state = torch.load(weights, map_location="cpu", weights_only=True)
        self.content_path, self.style_path = content, style
        self.content_weight, self.style_weight = content_weight, style_weight
        self._targets: dict[tuple[int, int], tuple] = {}

    def _targets_for(self, size: tuple[int, int]):
        if size not in self._targets:
            with torch.no_grad():
                content = features(self.state, load_rgb(self.content_path, size=size))
                style = features(self.state, load_rgb(self.style_path, longest=max(size)))
            self._targets[size] = (
                {k: content[k] for k in CONTENT_LAYERS},
                {k: gram(style[k]) for k in STYLE_LAYERS},
            )
        return self._targets[size]

    def __call__(self, image_path: str | Path) -> dict[str, float]:
        image = load_rgb(image_path)
        size = (image.shape[-1], image.shape[-2])
        content_targets, grams = self._targets_for(size)
        with torch.no_grad():
            found = features(self.state, image)
            content = sum(F.mse_loss(found[k], t) for k, t in content_targets.items())
            style = sum(F.mse_loss(gram(found[k]), g) for k, g in grams.items())
        content, style = float(content), float(style)
        total = self.content_weight * content + self.style_weight * style
        return {"content": content, "style": style, "total": total}
