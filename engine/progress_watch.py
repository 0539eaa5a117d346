"""Tell a run that is getting somewhere from one that is stuck.

A step makes no progress when it is undone, its gradient is zero, or its loss is frozen to
the last digit (as when every ReLU has died). After a few such steps in a row the run
restarts its optimizer; after more, a run that never improved, or whose gradient is zero,
is stuck, while one that did improve has simply converged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# Steps in a row without progress before the optimizer restarts, and before the run stops.
RESTART_AFTER, STALL_STEPS = 4, 10


class RunStalled(RuntimeError):
    """The run could not make progress even after restarting its optimizer. The image is
    back at the last good one; the message says what went wrong."""


class RunOutOfMemory(RuntimeError):
    """The device ran out of memory during a step. The run is back at its last good image
    and can go on, or its image can seed a smaller run or one on the CPU."""


@dataclass(frozen=True)
class Verdict:
    restart: bool = False  # restart the optimizer from the last good image
    stuck: str = ""  # why the run cannot go on; empty while it can


class ProgressWatch:
    """Watches one scale of a run: make a new one when a scale starts."""

    def __init__(self):
        self._previous_loss: float | None = None
        self._first_loss: float | None = None
        self._best_loss = math.inf
        self._idle_steps = 0

    def observe(self, good: bool, loss: float, grad: torch.Tensor | None) -> Verdict:
        dead = grad is not None and loss > 0 and not bool(grad.any())
        previous, self._previous_loss = self._previous_loss, loss
        frozen = previous is not None and abs(loss - previous) <= 1e-7 * abs(loss)
        if good:
            self._first_loss = loss if self._first_loss is None else self._first_loss
            self._best_loss = min(loss, self._best_loss)
        self._idle_steps = self._idle_steps + 1 if (not good or dead or frozen) else 0
        if self._idle_steps >= STALL_STEPS:
            improved = self._first_loss is not None and self._best_loss < self._first_loss
            if improved and not dead:  # converged: nothing wrong
                self._idle_steps = 0
                return Verdict()
            return Verdict(stuck="the gradient is zero" if dead else "no step lowers the loss")
        return Verdict(restart=self._idle_steps == RESTART_AFTER)
