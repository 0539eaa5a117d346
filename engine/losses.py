"""The loss terms, as tiny modules. Each holds its target as a buffer, so a weight can
change between steps without recomputing any target.

Normalisation follows neural-style (Johnson's implementation of Gatys et al.), whose
documented defaults the settings build on:
- content: mean squared error of the features;
- style: mean squared error of Gram matrices, each Gram divided by C*H*W (the paper uses
  1/(4 N^2 M^2) on a summed error; dividing by the element count instead keeps a layer's
  loss independent of the image size, so one style weight works at every output size);
- total variation: mean squared difference of neighbouring pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) activations -> (N, C, C) Gram matrices divided by C*H*W."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


class ContentLoss(nn.Module):
    """Feature distance to the content image at one layer."""

    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.register_buffer("target", target.detach())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(features, self.target)


class StyleLoss(nn.Module):
    """Gram distance at one layer to a blend of one or more style images.

    The per-style Grams are kept separately; the blend weights are a buffer, so changing
    the blend re-mixes stored Grams instead of running the network on the styles again.
    """

    def __init__(self, grams: torch.Tensor, blend: torch.Tensor):
        super().__init__()
        self.register_buffer("grams", grams.detach())  # (S, C, C), one per style image
        self.register_buffer("blend", torch.empty(len(grams), device=grams.device))
        self.set_blend(blend)

    def set_blend(self, blend: torch.Tensor) -> None:
        blend = torch.as_tensor(blend, dtype=self.grams.dtype).flatten()
        if len(blend) != len(self.grams) or (blend < 0).any() or blend.sum() <= 0:
            raise ValueError("blend needs one non-negative weight per style, not all zero")
        self.blend.copy_(blend / blend.sum())

    @property
    def target(self) -> torch.Tensor:
        return torch.einsum("s,sij->ij", self.blend, self.grams)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(gram_matrix(features)[0], self.target)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (smooths high-frequency noise)."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()
