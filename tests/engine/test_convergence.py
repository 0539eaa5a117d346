"""Stop on convergence: a scale ends once its picture stops changing, and the run with it."""

import pytest
import torch

from engine.convergence import WINDOW, SettleWatch
from engine.run import StyleTransfer
from engine.settings import RunSettings
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.engine.helpers import painting, photo

SMALL = RunSettings(size=64, steps=200, style_weight=RANDOM_NET_STYLE_WEIGHT, tv_weight=0.0,
                    device="cpu")  # fmt: skip


def watch_steps(watch: SettleWatch, images) -> int | None:
    """The step (1-based) at which `watch` first says settled, or None."""
    return next((i for i, image in enumerate(images, 1) if watch.observe(image)), None)


def test_a_picture_settles_once_it_stops_moving_and_not_before_it_moved():
    # One 8-bit level per step everywhere for 30 steps: plainly visible; then still.
    moving = [torch.full((1, 3, 8, 8), min(i, 30) / 255) for i in range(80)]
    assert watch_steps(SettleWatch(0.5), moving) == 4 * WINDOW + 1  # the first still window
    assert watch_steps(SettleWatch(0.5), moving[:30]) is None
    # A slow start (L-BFGS's first short steps) is not "settled": it has not moved yet.
    slow = [torch.full((1, 3, 8, 8), i * 0.2 / 255) for i in range(50)]
    assert watch_steps(SettleWatch(0.5), slow) is None
    assert watch_steps(SettleWatch(0.0), moving) is None  # 0: the rule is off


def run_all(run: StyleTransfer) -> list:
    reports = []
    while not run.done:
        reports.append(run.step())
    return reports


def test_a_run_that_settles_finishes_early_and_says_so(random_network):
    run = StyleTransfer(photo(), [painting()], SMALL.replace(settle=0.5), random_network)
    reports = run_all(run)
    assert run.done and len(reports) < SMALL.steps  # the ceiling was not needed
    assert reports[-1].settled and not any(r.settled for r in reports[:-1])
    assert reports[-1].total_steps == reports[-1].iteration == run.iteration
    with pytest.raises(RuntimeError, match="finished"):
        run.step()
    fixed = StyleTransfer(photo(), [painting()], SMALL.replace(settle=0.0, steps=30),
                          random_network)  # fmt: skip
    assert len(run_all(fixed)) == 30  # settle 0: every step, as before


def test_each_scale_ends_when_it_settles_and_the_next_begins(random_network):
    settings = SMALL.replace(scales=(32, 64), settle=0.5)
    run = StyleTransfer(photo(), [painting()], settings, random_network)
    reports = run_all(run)
    first = [r for r in reports if r.scale_index == 0]
    assert first[-1].settled and len(first) < settings.steps
    assert reports[len(first)].size == (64, 48)  # the next scale began at once
    assert len(reports) < 2 * settings.steps and reports[-1].total_steps == len(reports)
    # Going back to a step of the first scale: that scale again, with its ceiling restored.
    run.restore(photo().resize((32, 24)), step=len(first) - 2)
    assert run.scale_index == 0 and not run.done
    assert run.total_steps == 2 * settings.steps  # scale 0 began at step 0


def test_the_watch_says_about_when_a_shrinking_change_will_settle():
    # The change per step halves every window: 8, 4, 2, 1, 0.5 levels per step...
    levels, images = 0.0, [torch.zeros(1, 3, 8, 8)]
    for step in range(1, 81):
        levels += 8 * 0.5 ** ((step - 1) // WINDOW)
        images.append(torch.full((1, 3, 8, 8), levels / 255))
    watch, estimates = SettleWatch(0.6), {}
    for step, image in enumerate(images):
        settled = watch.observe(image)
        estimates[step] = watch.steps_left()
        if settled:
            break
    assert estimates[WINDOW] is None  # one measurement: no rate yet
    # After 8 then 4 levels a step, 0.5 (under the 0.6 threshold) is three halvings away.
    assert estimates[2 * WINDOW] == 3 * WINDOW
    assert estimates[2 * WINDOW + 3] == 3 * WINDOW - 3  # counts down between measurements
    assert step == 5 * WINDOW  # and it settled there
    growing = SettleWatch(0.5)
    for image in [torch.full((1, 3, 8, 8), (i * i) / 255) for i in range(25)]:
        growing.observe(image)
    assert growing.steps_left() is None  # speeding up: no end in sight


def test_a_settling_run_expects_to_end_before_its_ceiling(random_network):
    run = StyleTransfer(photo(), [painting()], SMALL.replace(settle=0.5), random_network)
    reports = run_all(run)
    expected = [r.expected_steps for r in reports]
    assert expected[0] == SMALL.steps  # nothing known yet: the ceiling
    assert any(e < SMALL.steps for e in expected)  # an estimate came before the end
    # The last estimates before it settled were close to where it did.
    late = [e for r, e in zip(reports, expected, strict=True) if r.iteration >= 0.8 * len(reports)]
    assert all(abs(e - len(reports)) <= max(WINDOW, 0.3 * len(reports)) for e in late)
