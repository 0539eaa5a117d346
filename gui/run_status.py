"""Where a run stands, and how fast it goes."""

from __future__ import annotations

from enum import Enum

from engine.run import StepReport


class RunStatus(str, Enum):
    """A str, so a status compares with and prints as its name ("running")."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSING = "pausing"  # asked to pause; the step in progress finishes first
    PAUSED = "paused"
    STOPPING = "stopping"

    def __str__(self) -> str:
        return self.value


class RateMeter:
    """Steps per second over the last 20 reports (the first steps of a run are slower)."""

    def __init__(self) -> None:
        self.rate = 0.0
        self._marks: list[tuple[int, float]] = []

    def add(self, report: StepReport) -> float:
        marks = self._marks
        marks.append((report.iteration, report.seconds))
        del marks[:-20]
        (first_it, first_s), (last_it, last_s) = marks[0], marks[-1]
        if last_s > first_s:
            self.rate = (last_it - first_it) / (last_s - first_s)
        elif report.seconds > 0:
            self.rate = report.iteration / report.seconds
        return self.rate


def elapsed_text(seconds: float) -> str:
    """12 s, 3:07, 1:02:03."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"
