"""Regions: paint where each style goes (Gatys, Ecker, Bethge, Hertzmann, Shechtman 2017,
"Controlling Perceptual Factors in Neural Style Transfer", spatial control).

A Region is a soft mask in [0, 1] over the output, at any resolution, with the paintings
that style it (indices into the run's style images) or `keep`: no style loss there, the
photo kept (its content weight raised there if `content_boost` > 1). Pixels no region
covers get no style either. A run without regions is the one-region case: `everywhere`,
whose mask is the whole picture (None), so plain and regional runs share one pipeline; its
losses skip the mask (the ordinary, unguided Gram), which is exact and costs nothing extra.

At each scale the masks are resized to the output and then pooled with the network's own
2×2 strides, so a layer's mask has exactly its feature map's size. A region's style term is
a guided Gram matrix: the features weighted by the mask, Gram'd, divided by the mask's
weight (Σm²) instead of H·W, so a full mask gives the ordinary Gram. Soft masks let both
regions' terms act on an edge's pixels, and deeper layers see the edge blurred by the
pooling: the styles cross-fade instead of meeting at a seam.

Style targets depend only on the paintings (and an optional mask on a painting), never on
the output masks, so they are cached per scale by (painting, painting mask): editing a
mask during a run rebuilds the cheap guided losses and recomputes no target.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from engine.color import match_color_statistics
from engine.images import ImageError, open_image, resize_longest, to_rgb, to_tensor
from engine.losses import ContentLoss, LayerStyleLoss, MomentLoss, StyleLoss

MAX_REGIONS = 8
EMPTY = 1 / 255  # a mask whose brightest pixel is below one 8-bit step is empty
Features = Callable[[torch.Tensor], dict[str, torch.Tensor]]


class RegionError(ValueError):
    """Regions that cannot run; the message says which region and why, in one line."""


@dataclass(frozen=True, eq=False)
class Region:
    # (H, W) float32 in [0, 1], any resolution; None: the whole picture (`everywhere`)
    mask: np.ndarray | None = field(repr=False)
    styles: tuple[int, ...] = ()  # indices into the run's style images
    keep: bool = False  # "keep the photo": no style here
    blend: tuple[float, ...] = ()  # one weight per style; empty: the run's style_blend
    # Per style, where on that painting its style is taken from (None: all of it).
    style_masks: tuple[np.ndarray | None, ...] = field(default=(), repr=False)
    content_boost: float = 1.0  # keep regions: the content weight is multiplied by this


def everywhere(style_count: int) -> Region:
    """The region of a run without regions: every painting over the whole picture."""
    return Region(None, styles=tuple(range(style_count)))


def mask_from_image(image: Image.Image) -> np.ndarray:
    """A greyscale reading of any image: white is in the region, grey a soft edge."""
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        image = image.convert("RGBA").getchannel("A")  # painted on transparency: its alpha
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


def load_mask(path: str | Path) -> np.ndarray:
    """A mask from an image file; RegionError naming the file if it cannot be used."""
    try:
        image = open_image(path)  # every image's checks: a regular file, the pixel limit
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        mask = mask_from_image(image.convert("RGBA") if has_alpha else to_rgb(image))
    except ImageError as error:
        raise RegionError(f"mask {error}") from None
    except Exception as error:  # damaged data Pillow only notices while decoding
        raise RegionError(f"mask {path}: the image data is damaged ({error})") from None
    if mask.max() < EMPTY:
        raise RegionError(f"mask {path}: is empty (all black); paint the region in white")
    return mask


def check_regions(regions: Sequence[Region], style_count: int) -> None:
    """Raise RegionError naming the region (1-based) and the problem."""
    if len(regions) > MAX_REGIONS:
        raise RegionError(f"{len(regions)} regions given; at most {MAX_REGIONS}")
    for number, region in enumerate(regions, start=1):
        mask = np.asarray(region.mask)
        where = f"region {number}"
        if mask.ndim != 2 or min(mask.shape) < 1:
            raise RegionError(f"{where}: the mask must be a 2-D image")
        if not np.isfinite(mask).all() or mask.min() < 0 or mask.max() > 1:
            raise RegionError(f"{where}: mask values must lie in [0, 1]")
        if mask.max() < EMPTY:
            raise RegionError(f"{where}: the mask is empty (all black)")
        if region.keep and region.styles:
            raise RegionError(f"{where}: a keep-the-photo region has no styles")
        if not region.keep and not region.styles:
            raise RegionError(f"{where}: needs a style, or keep the photo")
        if any(not 0 <= index < style_count for index in region.styles):
            raise RegionError(f"{where}: names a style that is not loaded")
        if region.blend and (len(region.blend) != len(region.styles) or sum(region.blend) <= 0
                             or min(region.blend) < 0):  # fmt: skip
            raise RegionError(f"{where}: needs one non-negative blend weight per style")
        if region.style_masks and len(region.style_masks) != len(region.styles):
            raise RegionError(f"{where}: needs one painting mask (or none) per style")
        if not 1 <= region.content_boost <= 100:
            raise RegionError(f"{where}: the content boost must be from 1 to 100")


def output_masks(regions: Sequence[Region], height: int, width: int,
                 device: torch.device) -> torch.Tensor:  # fmt: skip
    """(R, 1, H, W): each mask resized to the output; where regions overlap by more than
    a whole pixel they share it (divided by their sum), so no pixel is styled twice."""
    masks = torch.cat([torch.ones(1, 1, height, width, device=device) if region.mask is None
                       else _resized(region.mask, height, width, device)
                       for region in regions])  # fmt: skip
    total = masks.sum(0, keepdim=True)
    return masks / total.clamp_min(1)


def _resized(mask: np.ndarray, height: int, width: int, device: torch.device) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(mask, dtype=np.float32), device=device)[None, None]
    if tensor.shape[-2:] != (height, width):  # another size or shape: stretched to fit
        tensor = F.interpolate(tensor, size=(height, width), mode="bilinear",
                               align_corners=False, antialias=True)  # fmt: skip
    return tensor.clamp(0, 1)


def layer_masks(masks: torch.Tensor, shapes: dict[str, tuple[int, int]]) -> dict[str, torch.Tensor]:
    """Each layer's masks, pooled 2×2 as VGG pools (floor sizes) to its feature map's size."""
    found = {}
    for layer, shape in shapes.items():
        mask = masks
        while mask.shape[-2] > shape[0] and min(mask.shape[-2:]) >= 2:
            mask = F.avg_pool2d(mask, 2)
        if tuple(mask.shape[-2:]) != tuple(shape):  # not VGG's strides: area resize
            mask = F.interpolate(masks, size=shape, mode="area")
        found[layer] = mask
    return found


# --- guided statistics and losses ---------------------------------------------------------


def guided_gram(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) features, (1, 1, H, W) mask -> (C, C) Gram of the masked features,
    divided by C·Σm² (C·H·W for a full mask, the unguided Gram of engine/losses.py)."""
    _, c, h, w = features.shape
    flat = (features * mask).permute(0, 2, 3, 1).reshape(h * w, c)
    return flat.T @ flat / (c * mask.pow(2).sum().clamp_min(1e-6))


def guided_moments(features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mask-weighted per-channel mean (C,) and covariance (C, C)."""
    flat = features[0].reshape(features.shape[1], -1)
    weights = mask.reshape(1, -1)
    total = weights.sum().clamp_min(1e-6)
    mean = (flat * weights).sum(1) / total
    centred = flat - mean[:, None]
    return mean, (centred * weights) @ centred.T / total


class GuidedStyleLoss(StyleLoss):
    """StyleLoss on the Gram of the features inside a mask (a buffer: an edit swaps it)."""

    def __init__(self, grams: torch.Tensor, blend: torch.Tensor, mask: torch.Tensor):
        super().__init__(grams, blend)
        self.register_buffer("mask", mask)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(guided_gram(features, self.mask), self.target) / self.scale


class GuidedMomentLoss(MomentLoss):
    """MomentLoss on the mask-weighted mean and covariance."""

    def __init__(self, means, covariances, blend, mask: torch.Tensor):
        super().__init__(means, covariances, blend)
        self.register_buffer("mask", mask)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.distance(*guided_moments(features, self.mask))


class GuidedContentLoss(ContentLoss):
    """ContentLoss weighted per pixel: raised where the photo is to be kept."""

    def __init__(self, target: torch.Tensor, weights: torch.Tensor):
        super().__init__(target)
        self.register_buffer("weights", weights)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return ((features - self.target).pow(2) * self.weights).mean() / self.scale


class RegionStyleLoss(nn.Module):
    """The style loss at one layer: each region's guided loss times the share of the
    picture the region covers, so per pixel a region is styled as strongly as a whole
    picture is without regions, and `style_weight` keeps its meaning."""

    def __init__(self, parts: list[LayerStyleLoss], styles: list[tuple[int, ...]],
                 blends: list[tuple[float, ...]], shares: list[float]):  # fmt: skip
        super().__init__()
        self.parts = nn.ModuleList(parts)
        self.styles, self.blends, self.shares = styles, blends, shares

    def set_blend(self, blend: torch.Tensor) -> None:
        for part, styles, own in zip(self.parts, self.styles, self.blends, strict=True):
            own = torch.tensor(own, device=blend.device) if own else None
            part.set_blend(own if own is not None else _subset(blend, styles))

    def calibrate(self, features: torch.Tensor) -> None:
        for part in self.parts:
            part.calibrate(features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        terms = [share * part(features) for part, share in zip(self.parts, self.shares,
                                                                strict=True)]  # fmt: skip
        return sum(terms) if terms else features.sum() * 0


def _subset(blend: torch.Tensor, styles: tuple[int, ...]) -> torch.Tensor:
    """The run's blend weights of one region's styles; equal if they are all zero there."""
    weights = blend[list(styles)]
    return weights if bool(weights.sum() > 0) else torch.ones_like(weights)


# --- targets, cached per scale ----------------------------------------------------------


@dataclass(frozen=True)
class StyleStatistics:
    grams: dict[str, torch.Tensor]
    moments: dict[str, tuple[torch.Tensor, torch.Tensor]]


class RegionTargets:
    """One scale's style statistics, computed on first use per (painting, painting mask)
    and kept: `computed` counts network passes over paintings (a mask edit adds none)."""

    def __init__(self, styles: list[torch.Tensor], content: torch.Tensor, color_match: bool,
                 statistic: str, layers: tuple[str, ...], features: Features):  # fmt: skip
        self._styles, self._content, self._color_match = styles, content, color_match
        self._moments, self._layers, self._features = statistic != "gram", layers, features
        self._cache: dict[tuple[int, str], StyleStatistics] = {}
        self.computed = 0

    def get(self, index: int, mask: np.ndarray | None) -> StyleStatistics:
        key = (index, _digest(mask))
        if key not in self._cache:
            self._cache[key] = self._compute(index, mask)
            self.computed += 1
        return self._cache[key]

    @torch.no_grad()
    def _compute(self, index: int, mask: np.ndarray | None) -> StyleStatistics:
        style = self._styles[index]
        if self._color_match:
            style = match_color_statistics(style, self._content)
        found = self._features(style)
        full = torch.ones(1, 1, *style.shape[-2:], device=style.device)
        masks = full if mask is None else _resized(mask, *style.shape[-2:], style.device)
        shaped = layer_masks(masks, {layer: found[layer].shape[-2:] for layer in self._layers})
        grams = {layer: guided_gram(found[layer], shaped[layer]) for layer in self._layers}
        moments = {}
        if self._moments:
            moments = {layer: guided_moments(found[layer], shaped[layer]) for layer in self._layers}
        return StyleStatistics(grams, moments)


def _digest(mask: np.ndarray | None) -> str:
    if mask is None:
        return ""
    array = np.ascontiguousarray(mask, dtype=np.float32)
    return hashlib.sha256(array.tobytes() + str(array.shape).encode()).hexdigest()


def style_images(styles: Sequence[Image.Image], side: int, device: torch.device) -> list:
    return [to_tensor(resize_longest(style, side)).to(device) for style in styles]


def region_style_losses(regions: Sequence[Region], targets: RegionTargets,
                        masks: dict[str, torch.Tensor], statistic: str,
                        blend: torch.Tensor) -> dict[str, RegionStyleLoss]:  # fmt: skip
    """One RegionStyleLoss per style layer from cached targets and this scale's masks."""
    losses = {}
    for layer, layer_mask in masks.items():
        parts, styles, blends, shares = [], [], [], []
        for number, region in enumerate(regions):
            share = float(layer_mask[number].mean())
            if region.keep or share < 1e-4:  # nothing to style here at this scale
                continue
            painting_masks = region.style_masks or (None,) * len(region.styles)
            pairs = zip(region.styles, painting_masks, strict=True)
            stats = [targets.get(index, painting_mask) for index, painting_mask in pairs]
            own = torch.tensor(region.blend, device=blend.device) if region.blend else None
            weights = own if own is not None else _subset(blend, region.styles)
            grams = torch.stack([s.grams[layer] for s in stats])
            moment = None
            if region.mask is None:  # the whole picture: no mask to weigh the features by
                gram = StyleLoss(grams, weights)
                if statistic != "gram":
                    moment = MomentLoss(*_stacked_moments(stats, layer), weights)
            else:
                mask = layer_mask[number : number + 1]
                gram = GuidedStyleLoss(grams, weights, mask)
                if statistic != "gram":
                    moment = GuidedMomentLoss(*_stacked_moments(stats, layer), weights, mask)
            parts.append(LayerStyleLoss(gram, moment, statistic))
            styles.append(region.styles)
            blends.append(region.blend)
            shares.append(share)
        losses[layer] = RegionStyleLoss(parts, styles, blends, shares)
    return losses


def _stacked_moments(stats: list[StyleStatistics], layer: str) -> list[torch.Tensor]:
    """The paintings' means (S, C) and covariances (S, C, C) at one layer."""
    means, covariances = zip(*(s.moments[layer] for s in stats), strict=True)
    return [torch.stack(means), torch.stack(covariances)]


def region_content_losses(regions: Sequence[Region], masks: dict[str, torch.Tensor],
                          features: dict[str, torch.Tensor]) -> dict[str, ContentLoss]:  # fmt: skip
    """Content losses, weighted up inside keep regions that ask for it."""
    # Known from the regions, not asked of the device: no sync, and the meta-device tests
    # (tests/engine/fake_accelerator.py, which can only answer True) see the guided loss.
    boosted = any(region.keep and region.content_boost > 1 for region in regions)
    losses = {}
    for layer, layer_mask in masks.items():
        weights = torch.ones_like(layer_mask[:1])
        for number, region in enumerate(regions):
            if region.keep and region.content_boost > 1:
                weights = weights + (region.content_boost - 1) * layer_mask[number : number + 1]
        if boosted:
            losses[layer] = GuidedContentLoss(features[layer], weights)
        else:
            losses[layer] = ContentLoss(features[layer])
    return losses
