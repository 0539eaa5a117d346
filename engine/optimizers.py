"""The two optimizers a run can use on its pixels, and how Adam's state crosses scales."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.lbfgs import PixelLBFGS
from engine.settings import RunSettings

Optimizer = PixelLBFGS | torch.optim.Adam


def new_optimizer(image: torch.Tensor, settings: RunSettings) -> Optimizer:
    if settings.optimizer == "lbfgs":
        return PixelLBFGS(image, history=settings.lbfgs_memory, lr=settings.lr)
    return torch.optim.Adam([image], lr=settings.lr)


def set_learning_rate(optimizer: Optimizer, lr: float) -> None:
    if isinstance(optimizer, PixelLBFGS):
        optimizer.lr = lr
        return
    for group in optimizer.param_groups:
        group["lr"] = lr


def carry_adam_moments(previous: Optimizer, optimizer: Optimizer, image: torch.Tensor) -> None:
    """Resize Adam's moment estimates to the new scale's `image`, so it does not restart
    cold. Does nothing unless both optimizers are Adam and the old one has taken a step."""
    if not isinstance(previous, torch.optim.Adam) or not isinstance(optimizer, torch.optim.Adam):
        return
    old = previous.state.get(previous.param_groups[0]["params"][0])
    if not old:
        return
    size = image.shape[-2:]

    def resize(tensor: torch.Tensor) -> torch.Tensor:
        return F.interpolate(tensor, size=size, mode="bilinear", align_corners=False)

    optimizer.state[image] = {
        "step": old["step"].clone(),
        "exp_avg": resize(old["exp_avg"]).contiguous(),
        "exp_avg_sq": resize(old["exp_avg_sq"]).clamp_min(0).contiguous(),
    }
