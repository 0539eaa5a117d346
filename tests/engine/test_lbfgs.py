"""PixelLBFGS (engine/lbfgs.py) on functions whose minimum is known: it finds it, no step
moves a pixel further than the trust radius, and a step that raises the loss or makes it
non-finite is undone at once."""

from __future__ import annotations

import pytest
import torch

from engine.lbfgs import INITIAL_RADIUS, MAX_RADIUS, PixelLBFGS


def minimise(function, start, steps: int, **options):
    """Run PixelLBFGS on `function` from `start`; returns the optimizer and every point."""
    x = torch.tensor(start, dtype=torch.float64).requires_grad_(True)
    optimizer, closure = PixelLBFGS(x, **options), closure_for(function, x)
    points = [x.detach().clone()]
    for _ in range(steps):
        optimizer.step(closure)
        points.append(x.detach().clone())
    return optimizer, points


def closure_for(function, x):
    """The closure PixelLBFGS calls: the loss at `x`, its gradient left in x.grad."""

    def closure():
        x.grad = None
        loss = function(x)
        if torch.isfinite(loss):
            loss.backward()
        return loss.detach()

    return closure


def quadratic(x):
    # An ill-conditioned bowl (curvatures 1 to 1000) with its minimum inside [0, 1].
    centre = torch.linspace(0.2, 0.8, len(x), dtype=x.dtype)
    curvature = torch.logspace(0, 3, len(x), dtype=x.dtype)
    return (curvature * (x - centre) ** 2).sum()


def rosenbrock(x):
    # Rosenbrock's valley mapped into the pixel range: the minimum at u = (1, 1) is x = 0.75.
    u = 4 * (x - 0.5)
    return (1 - u[0]) ** 2 + 100 * (u[1] - u[0] ** 2) ** 2


def test_it_finds_the_minimum_of_an_ill_conditioned_quadratic():
    _, points = minimise(quadratic, [0.5] * 8, steps=60)
    centre = torch.linspace(0.2, 0.8, 8, dtype=torch.float64)
    assert (points[-1] - centre).abs().max() < 1e-4


def test_it_follows_rosenbrocks_valley_to_its_minimum():
    _, points = minimise(rosenbrock, [0.25, 0.75], steps=300)
    assert (points[-1] - 0.75).abs().max() < 1e-3
    assert float(rosenbrock(points[-1])) < 1e-6


def test_no_step_moves_a_pixel_further_than_the_trust_radius_which_grows_after_good_steps():
    optimizer, points = minimise(quadratic, [0.5] * 8, steps=12)
    moves = [float((b - a).abs().max()) for a, b in zip(points, points[1:], strict=False)]
    assert moves[0] == pytest.approx(INITIAL_RADIUS)  # steepest descent, cut to the radius
    bounds = [min(INITIAL_RADIUS * 2**k, MAX_RADIUS) for k in range(len(moves))]
    assert all(move <= bound * (1 + 1e-9) for move, bound in zip(moves, bounds, strict=True))
    assert max(moves) > 2 * INITIAL_RADIUS  # the radius did grow


def test_pixels_stay_in_range_even_when_the_minimum_is_outside():
    _, points = minimise(lambda x: ((x - 1.7) ** 2).sum(), [0.5, 0.9], steps=40)
    assert all(float(p.min()) >= 0 and float(p.max()) <= 1 for p in points)
    assert torch.allclose(points[-1], torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize("bad", ["rose", "non-finite"])
def test_a_step_that_raises_the_loss_or_breaks_it_is_undone_at_once(bad):
    calls = []

    def sabotaged(x):
        calls.append(None)
        loss = quadratic(x)
        if len(calls) == 6:  # the point the fifth step went to
            return loss + 1e3 if bad == "rose" else loss * float("nan")
        return loss

    x = torch.full((8,), 0.5, dtype=torch.float64, requires_grad=True)
    optimizer, closure = PixelLBFGS(x), closure_for(sabotaged, x)

    points = []
    for _ in range(5):
        optimizer.step(closure)
        points.append(x.detach().clone())
    radius = optimizer.radius
    optimizer.step(closure)  # evaluates the sabotaged point: undone, then a shorter step
    assert optimizer.rejected == bad
    assert optimizer.radius < radius
    assert float((x.detach() - points[-2]).abs().max()) <= optimizer.radius * (1 + 1e-9)
    for _ in range(60):  # and it goes on to the minimum
        optimizer.step(closure)
    assert optimizer.rejected is None
    assert float(quadratic(x.detach())) < 1e-6
