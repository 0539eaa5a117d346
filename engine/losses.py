"""The loss terms, as tiny modules. Each holds its target as a buffer, so a weight can
change between steps without recomputing any target.

Normalisation departs from the paper on purpose, so that a loss weight means the same on
every network and preprocessing (torchvision's VGG19, a Caffe VGG16 seeing 0-255 pixels,
even a random net: their activations differ by factors of 50 and more):
- content: mean squared feature error divided by the target's mean square, i.e. the
  relative error (0 at the photo, about 1 for an unrelated image);
- style: mean squared error of Gram matrices (each divided by C*H*W so it does not grow with
  the image size), divided by the target Gram's mean square: each layer's term is a
  relative error too, so equal layer weights really weigh the layers equally;
- total variation: mean squared difference of neighbouring pixels, on the [0, 1] image the
  optimiser sees whatever the network's preprocessing, so it needs no normalising.
Optional, from crowsonkb/style-transfer-pytorch: a moment (Wasserstein-2) style loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) activations -> (N, C, C) Gram matrices divided by C*H*W."""
    n, c, h, w = features.shape
    # (N, H·W, C): a view, no copy, of the channels-last activations the CPU produces.
    flat = features.permute(0, 2, 3, 1).reshape(n, h * w, c)
    return flat.transpose(1, 2) @ flat / (c * h * w)


def normalised_blend(blend: torch.Tensor, styles: int) -> torch.Tensor:
    """Blend weights scaled to sum to 1; one non-negative weight per style, not all zero."""
    blend = torch.as_tensor(blend, dtype=torch.float32).flatten()
    # One question of the device, not two, asked so that True is the healthy answer: the
    # meta-device tests (tests/engine/fake_accelerator.py) answer True to every question.
    if len(blend) != styles or not bool((blend >= 0).all() & (blend.sum() > 0)):
        raise ValueError("blend needs one non-negative weight per style, not all zero")
    return blend / blend.sum()


def mean_square(target: torch.Tensor) -> torch.Tensor:
    """A target's scale, the divisor of its relative error (never zero)."""
    return target.detach().pow(2).mean().clamp_min(1e-12)


class ContentLoss(nn.Module):
    """Relative feature distance to the content image at one layer."""

    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.register_buffer("target", target.detach())
        self.register_buffer("scale", mean_square(target))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(features, self.target) / self.scale


class StyleLoss(nn.Module):
    """Relative Gram distance at one layer to a blend of one or more style images.

    The per-style Grams are kept separately; the blend weights are a buffer, so changing
    the blend re-mixes stored Grams instead of running the network on the styles again.
    """

    def __init__(self, grams: torch.Tensor, blend: torch.Tensor):
        super().__init__()
        self.register_buffer("grams", grams.detach())  # (S, C, C), one per style image
        self.register_buffer("blend", torch.empty(len(grams), device=grams.device))
        self.set_blend(blend)

    def set_blend(self, blend: torch.Tensor) -> None:
        self.blend.copy_(normalised_blend(blend, len(self.grams)))
        self.target = torch.einsum("s,sij->ij", self.blend, self.grams)  # mixed once, not per step
        self.scale = mean_square(self.target)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(gram_matrix(features)[0], self.target) / self.scale


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (smooths high-frequency noise)."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


def feature_moments(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, C, H, W) activations -> per-channel mean (C,) and covariance (C, C)."""
    flat = features[0].reshape(features.shape[1], -1)
    mean = flat.mean(1)
    centred = flat - mean[:, None]
    return mean, centred @ centred.T / flat.shape[1]


def sqrtm_psd(matrix: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix, differentiable (eigh).

    Eigenvalues are clamped at eps: tiny negative ones from rounding would give NaN.
    """
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(eps).sqrt()) @ vectors.T


class MomentLoss(nn.Module):
    """Wasserstein-2 distance between Gaussians fitted to the features (mean, covariance).

    W2² = |μ - μt|² + tr(Σ) + tr(Σt) - 2 tr((Σt½ Σ Σt½)½). Unlike the Gram matrix, which
    mixes mean and spread, this matches them separately, which keeps flat areas of the
    style flat (crowsonkb/style-transfer-pytorch). Several styles are blended in moment
    space: the means and the second moments are averaged, then the covariance is formed.
    Divided by the channel count so it sits on the same scale at every layer.
    """

    def __init__(self, means: torch.Tensor, covariances: torch.Tensor, blend: torch.Tensor):
        super().__init__()
        self.register_buffer("means", means.detach())  # (S, C)
        self.register_buffer("covariances", covariances.detach())  # (S, C, C)
        self.register_buffer("blend", torch.empty(len(means), device=means.device))
        self.set_blend(blend)

    def set_blend(self, blend: torch.Tensor) -> None:
        self.blend.copy_(normalised_blend(blend, len(self.means)))
        outer = self.means[:, :, None] * self.means[:, None, :]
        mean = torch.einsum("s,sc->c", self.blend, self.means)
        second = torch.einsum("s,sij->ij", self.blend, self.covariances + outer)
        self.target_mean = mean
        self.target_cov = second - mean[:, None] * mean[None, :]
        self.target_cov_sqrt = sqrtm_psd(self.target_cov)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.distance(*feature_moments(features))

    def distance(self, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
        """W2² to the target from the features' moments (regions pass guided ones)."""
        cross = sqrtm_psd(self.target_cov_sqrt @ cov @ self.target_cov_sqrt)
        distance = (mean - self.target_mean).pow(2).sum() + torch.trace(
            cov + self.target_cov - 2 * cross
        )
        return distance / len(mean)


class LayerStyleLoss(nn.Module):
    """The style loss at one layer: Gram, moments, or both.

    The moment term is multiplied by a scale fixed at the start of each scale so that it
    equals the Gram term on the starting image: `style_weight` then keeps one meaning
    whichever statistic is chosen, with real or random network weights alike.
    """

    def __init__(self, gram: StyleLoss, moments: MomentLoss | None, statistic: str):
        super().__init__()
        self.gram, self.moments, self.statistic = gram, moments, statistic
        self.moment_scale = 1.0

    def set_blend(self, blend: torch.Tensor) -> None:
        self.gram.set_blend(blend)
        if self.moments is not None:
            self.moments.set_blend(blend)

    @torch.no_grad()
    def calibrate(self, features: torch.Tensor) -> None:
        if self.moments is not None:
            gram, moments = self.gram(features), self.moments(features)
            self.moment_scale = float(gram / moments) if moments > 0 and gram > 0 else 1.0

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.statistic == "gram":
            return self.gram(features)
        moments = self.moment_scale * self.moments(features)
        return moments if self.statistic == "moments" else self.gram(features) + moments
