"""L-BFGS on the image's pixels, with a bounded step and built-in rollback.

Why not `torch.optim.LBFGS` at learning rate 1 (neural-style's choice): its first step
moves every pixel by about 1/(number of pixels), its second takes the curvature from that
tiny step and, on a trained VGG, moved pixels by up to 2.4e5 (a frame of saturated noise);
at the third the gradient change overflowed float32 and every later direction was zero.
Its strong-Wolfe line search costs extra network evaluations per step and, measured here,
still froze on a large style weight.

This one evaluates the network exactly once per step, as neural-style does, and:
- never moves a pixel by more than `radius` in one step (a trust region in pixel units,
  which mean the same on every network since the pixels are always in [0, 1]);
- checks each new point when it is evaluated: if the loss rose or is not finite, the step is
  undone and the radius shrunk below that step's length, and the next direction comes from
  the last good point's stored gradient, so no evaluation is repeated; on success the radius
  grows again;
- keeps curvature pairs only where they are positive (s·y > 0), so its quasi-Newton model
  stays positive definite whatever the ReLUs do.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import torch

INITIAL_RADIUS = 1 / 64  # pixel units; grows ×2 per good step
MAX_RADIUS = 0.25


class PixelLBFGS:
    def __init__(self, image: torch.Tensor, history: int = 100, lr: float = 1.0,
                 radius: float = INITIAL_RADIUS):  # fmt: skip
        self.image, self.lr = image, lr
        self.radius = radius
        self.taken = 0.0  # the largest pixel change of the step last taken
        self.pairs: deque[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = deque(maxlen=history)
        self._last: tuple[torch.Tensor, float, torch.Tensor] | None = None  # x, f, g accepted
        self.rejected: str | None = None  # why the latest step's point was undone, if it was

    def reset(self) -> None:
        """Forget the curvature (after the objective changed); keep the current point."""
        self.pairs.clear()
        self._last = None
        self.radius = max(self.radius, INITIAL_RADIUS)

    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Evaluate the loss at the current image, then move it. Returns that loss."""
        loss = closure()
        x, g = self.image.detach(), self.image.grad
        finite = bool(torch.isfinite(loss)) and g is not None and bool(torch.isfinite(g).all())
        self.rejected = None
        if self._last is not None:
            last_x, last_f, last_g = self._last
            if not finite or float(loss) > last_f:
                self.rejected = "rose" if finite else "non-finite"
                # Shorter than the step that failed, even if the radius did not bind it.
                self.radius = min(self.radius, self.taken) / 4
                with torch.no_grad():
                    self.image.copy_(last_x)
                x, g = last_x, last_g
            else:
                s, y = x - last_x, g - last_g
                sy = float(_dot(s, y))
                if sy > 1e-10 * float(s.norm() * y.norm()):
                    self.pairs.append((s, y, torch.tensor(1 / sy, device=s.device)))
                self.radius = min(self.radius * 2, MAX_RADIUS)
        elif not finite:
            self.rejected = "non-finite"  # nothing to return to yet: the caller rolls back
            return loss
        if not self.rejected:
            self._last = (x.clone(), float(loss), g.detach().clone())
        direction = self._direction(g).mul_(self.lr)
        largest = float(direction.abs().max())
        if largest > self.radius:
            direction *= self.radius / largest
        self.taken = min(largest, self.radius)
        with torch.no_grad():
            # Kept in the displayable range. The curvature pairs are taken from the points
            # actually visited, so this projection cannot corrupt them.
            self.image.add_(direction).clamp_(0, 1)
        return loss

    def _direction(self, gradient: torch.Tensor) -> torch.Tensor:
        """-H·g by the two-loop recursion (Nocedal & Wright, algorithm 7.4). The scalars stay
        on the device: no sync per pair."""
        q = -gradient.detach().clone()
        if not self.pairs:
            return q  # steepest descent; the radius bounds its length
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * _dot(s, q)
            q -= alpha * y
            alphas.append(alpha)
        s, y, _ = self.pairs[-1]
        q *= _dot(s, y) / _dot(y, y)
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas), strict=True):
            q += (alpha - rho * _dot(y, q)) * s
        return q


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.dot(a.flatten(), b.flatten())
