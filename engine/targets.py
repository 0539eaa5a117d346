"""What a run aims at, scale by scale: the paintings' style statistics, computed once per
scale, and the check that every input is big enough for the sizes asked for."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from PIL import Image

from engine.color import match_color_statistics
from engine.images import resize_longest, to_tensor
from engine.losses import LayerStyleLoss, MomentLoss, StyleLoss, feature_moments, gram_matrix
from engine.settings import RunSettings

# Below this, the deepest style layer (after four poolings) has no pixels left.
MIN_SIDE = 16

Features = Callable[[torch.Tensor], dict[str, torch.Tensor]]


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


def build_style_losses(
    styles: list[Image.Image],
    settings: RunSettings,
    content: torch.Tensor,
    size: int,
    features: Features,
    blend: tuple[float, ...],
) -> dict[str, LayerStyleLoss]:
    """One style loss per layer, from each painting's statistics at this scale. `content`
    is the photo at this scale (colour matching aims the paintings at its colours)."""
    with_moments = settings.style_statistic != "gram"
    grams = {layer: [] for layer in settings.style_layers}
    moments = {layer: [] for layer in settings.style_layers}
    for style in styles:
        style = to_tensor(resize_longest(style, style_side(settings, size))).to(content.device)
        if settings.color_match:
            style = match_color_statistics(style, content)
        style_features = features(style)
        for layer in settings.style_layers:
            grams[layer].append(gram_matrix(style_features[layer])[0])
            if with_moments:
                moments[layer].append(feature_moments(style_features[layer]))
    weights = torch.tensor(blend, device=content.device)
    losses = {}
    for layer in settings.style_layers:
        moment_loss = None
        if with_moments:
            means, covariances = zip(*moments[layer], strict=True)
            moment_loss = MomentLoss(torch.stack(means), torch.stack(covariances), weights)
        gram_loss = StyleLoss(torch.stack(grams[layer]), weights)
        losses[layer] = LayerStyleLoss(gram_loss, moment_loss, settings.style_statistic)
    return losses


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

