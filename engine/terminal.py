"""One progress line on a terminal, redrawn in place, shared by every command line tool
(style transfer, weights download, batch)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def bar(fraction: float, width: int) -> str:
    filled = round(width * min(max(fraction, 0.0), 1.0))
    return "[" + "#" * filled + "." * (width - filled) + "]"


class ProgressLine:
    """Redraws one line at most `per_second` times a second (always when `force`), and ends
    it with a newline on `finish()`. Draws nothing when disabled, e.g. when not a terminal."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True,
                 per_second: float = 10.0):  # fmt: skip
        self.stream = stream if stream is not None else sys.stderr
        self.enabled, self.interval = enabled, 1.0 / per_second
        self.last_drawn, self.drawn = -float("inf"), False

    def draw(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last_drawn < self.interval and not force):
            return
        self.last_drawn, self.drawn = now, True
        self.stream.write("\r" + text + " ")
        self.stream.flush()

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
