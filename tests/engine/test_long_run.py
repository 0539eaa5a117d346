"""Long runs: nothing accumulates from step to step (graphs, previews, reports)."""

import gc
import os

import pytest

from engine.run import StyleTransfer
from engine.settings import RunSettings
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.engine.helpers import painting, photo


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_memory_stays_flat_over_2000_steps(random_network):
    # Adam with the averaged iterate: the path that keeps the most state between steps.
    settings = RunSettings(size=24, steps=2000, optimizer="adam", average=True,
                           style_weight=RANDOM_NET_STYLE_WEIGHT, device="cpu")  # fmt: skip
    run = StyleTransfer(photo(24, 24), [painting(24, 24)], settings, random_network)
    readings = {}
    while not run.done:
        report = run.step()
        run.preview(max_side=24)  # as the window does, every step
        if report.iteration in (200, 2000):
            gc.collect()
            readings[report.iteration] = resident_mb()
    growth = readings[2000] - readings[200]
    assert growth < 20, f"resident memory grew {growth:.1f} MB between steps 200 and 2000"
