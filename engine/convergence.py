"""When a scale is done: the picture has stopped changing visibly.

"Steps per scale" is then a ceiling, not a quota. Every WINDOW steps the image is compared
with the one WINDOW steps before; when its pixels moved by less than `threshold` 8-bit
levels per step on average, the scale is over (the last scale: the run is finished); but
only once it has moved by more than that: L-BFGS starts with short steps (its trust radius
grows from 1/64), and on a smooth photo the first ten steps moved 0.15-0.3 levels each
before the loss fell fastest (trained VGG16, 96 px). A
visible-change rule, not a loss plateau: the loss of a Gram objective keeps creeping down
long after the picture looks the same, and the rule means the same at every size and on
every network, since the pixels are always in [0, 1]. The threshold was measured against
bench/judge.py, a score neither the engine nor neural-style optimises (bench/README.md,
"Time to picture").
"""

from __future__ import annotations

import math

import torch

WINDOW = 10  # steps between comparisons; also the fewest steps a scale runs


class SettleWatch:
    """Watches one scale: make a new one when a scale starts. threshold 0: never settles."""

    def __init__(self, threshold: float, window: int = WINDOW):
        self.threshold, self.window = threshold, window
        self._steps = 0
        self._reference: torch.Tensor | None = None
        self.change = float("inf")  # the last measured change, levels per step
        self._previous_change = float("inf")  # the one before it
        self._moved = False  # has it changed visibly yet?

    def observe(self, image: torch.Tensor) -> bool:
        """Call after every step with the current image; True once it has settled."""
        if self.threshold <= 0:
            return False
        if self._reference is None:
            self._reference = image.detach().clone()
            return False
        self._steps += 1
        if self._steps % self.window:
            return False
        current = image.detach()
        self._previous_change = self.change
        self.change = float((current - self._reference).abs().mean()) * 255 / self.window
        self._reference.copy_(current)
        if self.change >= self.threshold:
            self._moved = True
            return False
        return self._moved

    def steps_left(self) -> int | None:
        """About how many more steps until it settles, if the change keeps shrinking by
        the factor of its last two measurements (after a quick first drop, L-BFGS's change
        per step falls roughly geometrically); None while that is unknown: before two
        measurements, before the picture has moved, or while the change is not shrinking."""
        if self.threshold <= 0 or not self._moved or math.isinf(self._previous_change):
            return None
        ratio = self.change / self._previous_change if self._previous_change else 1.0
        if not 0 < ratio < 1:
            return None
        windows = math.ceil(math.log(self.threshold / self.change) / math.log(ratio))
        return max(1, windows) * self.window - self._steps % self.window
