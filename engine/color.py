"""Colour handling: luminance-only display and colour-statistics matching."""

from __future__ import annotations

import torch

_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                            [0.595716, -0.274453, -0.321263],
                            [0.211456, -0.522591, 0.311135]])  # fmt: skip


def keep_luminance_only(image: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The result's luminance with the content's colour (YIQ chroma), as neural-style's
    `-original_colors`: the style shapes light and texture, the photo keeps its colours."""
    result_yiq, content_yiq = _rgb_to_yiq(image), _rgb_to_yiq(content)
    mixed = torch.cat([result_yiq[:, :1], content_yiq[:, 1:]], dim=1)
    return _yiq_to_rgb(mixed).clamp(0, 1)


def match_color_statistics(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Recolour `source` so its RGB mean and covariance equal `reference`'s.

    Gatys et al. 2017 ("Controlling Perceptual Factors in Neural Style Transfer"): applied to
    the style image before the run, the style keeps its brushwork but speaks in the photo's
    palette. Uses the symmetric (principal) matrix square roots, which rotate colours least.
    """
    src, ref = source.reshape(3, -1).double(), reference.reshape(3, -1).double()
    src_mean, ref_mean = src.mean(1, keepdim=True), ref.mean(1, keepdim=True)
    eye = torch.eye(3, dtype=torch.float64) * 1e-5
    src_cov = torch.cov(src) + eye
    ref_cov = torch.cov(ref) + eye
    transform = _sqrtm(ref_cov) @ torch.linalg.inv(_sqrtm(src_cov))
    matched = transform @ (src - src_mean) + ref_mean
    return matched.reshape(source.shape).to(source.dtype).clamp(0, 1)


def _sqrtm(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def _rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YIQ.to(image), image)


def _yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB_TO_YIQ).to(image), image)
