"""The engine on a stand-in GPU (issue #25). No GPU runs these tests, so every feature runs a
few steps on the meta device (tests/engine/fake_accelerator.py): a tensor made on the CPU
and mixed with the run's, a float64 (Apple's MPS has none) or an autocast the device lacks
fails here as it would on a GPU. And mixed precision keeps Gram matrices and losses in fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import engine.run as run_module
from engine.regions import Region
from engine.run import StyleTransfer
from engine.settings import FALLING_LAYER_WEIGHTS, STYLE_STATISTICS, RunSettings
from tests.engine.fake_accelerator import FakeAccelerator
from tests.engine.helpers import checkers, painting, photo

# 32×24 px: meta does no arithmetic, so only the CPU-side work grows with the size.
# 5 steps: the fourth restarts the optimizer (every loss reads the same on meta).
BASE = RunSettings(size=32, steps=5, device="cpu")
LEFT = np.zeros((24, 32), np.float32)
LEFT[:, :16] = 1


@pytest.fixture
def meta():
    """The stand-in accelerator, for the length of a test."""
    with FakeAccelerator():
        yield torch.device("meta")


def run_all(run: StyleTransfer) -> list:
    reports = []
    while not run.done:
        reports.append(run.step())
    return reports


def check_shown(run: StyleTransfer) -> None:
    """The ways a picture leaves the device: previews, whole and downscaled, and the result."""
    assert run.image.is_meta
    assert run.preview().shape == (24, 32, 3)
    assert run.preview(max_side=16).shape == (12, 16, 3)
    assert run.result().size == (32, 24)


FEATURES = {
    "lbfgs, gram": {},
    "adam": dict(optimizer="adam"),
    "noise": dict(init="noise", seed=3),
    "moments": dict(style_statistic="moments"),
    "gram+moments": dict(style_statistic="gram+moments"),
    "color_match": dict(color_match=True),
    "preserve_colors": dict(preserve_colors=True),
    "average": dict(optimizer="adam", average=True),
    "scales": dict(scales=(24, 32)),
    "scales, adam carries its moments": dict(optimizer="adam", scales=(24, 32), carry_moments=True),
    "pooling, padding": dict(pooling="avg_scaled", padding="reflect"),
    "precision mixed": dict(precision="mixed"),  # meta has no bfloat16: runs fp32
}


@pytest.mark.parametrize("changes", FEATURES.values(), ids=FEATURES)
def test_each_feature_runs_on_the_accelerator(random_network, meta, changes):
    settings = BASE.replace(**changes)
    run = StyleTransfer(photo(), [painting()], settings, random_network, device=meta)
    reports = run_all(run)
    assert reports[-1].iteration == len(settings.sizes) * settings.steps
    check_shown(run)
    run.close()


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_live_changes_between_steps(random_network, meta, optimizer):
    settings = BASE.replace(optimizer=optimizer, steps=6)
    run = StyleTransfer(photo(), [painting(), checkers()], settings, random_network, device=meta)
    run.step()
    run.update(style_weight=20.0, content_weight=0.5, tv_weight=2.0)
    run.step()
    run.update(style_blend=(1.0, 3.0), style_layer_weights=FALLING_LAYER_WEIGHTS,
               learning_rate=0.01)  # fmt: skip
    run.step()
    run.update(preserve_colors=True, average=True)
    run_all(run)
    check_shown(run)


def test_an_init_image_restore_and_going_on_from_a_step(random_network, meta):
    settings = BASE.replace(init="start.png", scales=(24, 32), steps=3)
    run = StyleTransfer(photo(), [painting()], settings, random_network, device=meta,
                        init_image=photo(seed=5))  # fmt: skip
    run.step()
    run.restore(photo(seed=6))  # at this scale
    run.step()
    run.restore(photo(seed=7), step=4)  # onto the next scale
    assert run.scale_index == 1
    run_all(run)
    check_shown(run)
    later = StyleTransfer(photo(), [painting()], settings, random_network, device=meta,
                          init_image=photo(seed=8), start_step=2)  # fmt: skip
    run_all(later)
    check_shown(later)


@pytest.mark.parametrize("statistic", STYLE_STATISTICS)
def test_regions_on_the_accelerator(random_network, meta, statistic):
    where = np.zeros((10, 10), np.float32)  # a mask on the painting: its top half
    where[:5] = 1
    regions = [Region(LEFT, (0,), style_masks=(where,)), Region(1 - LEFT, (0, 1), blend=(1, 2))]
    settings = BASE.replace(style_statistic=statistic, color_match=True, scales=(24, 32), steps=3)
    run = StyleTransfer(photo(), [painting(), checkers()], settings, random_network, device=meta,
                        regions=regions)  # fmt: skip
    run.step()
    run.update_regions([Region(LEFT, (1,)), Region(1 - LEFT, keep=True, content_boost=4)])
    run.step()
    run.update(style_blend=(2.0, 1.0))
    run_all(run)
    check_shown(run)


def test_meta_refuses_a_cpu_tensor_as_a_gpu_does():
    # The harness rests on this: were meta to take it, the tests above would pass blind.
    with pytest.raises(RuntimeError, match="device"):
        torch.ones(3, 3, device="meta") + torch.eye(3)


def test_the_fake_accelerator_refuses_float64(meta):
    with pytest.raises(AssertionError, match="float64"):
        torch.ones(3, device=meta).double()
    with pytest.raises(AssertionError, match="float64"):
        torch.zeros(3, device=meta, dtype=torch.float64)


# --- mixed precision ----------------------------------------------------------------------

aten = torch.ops.aten
# The products that form Gram matrices, moments and L-BFGS's dot products, and the losses.
PRODUCTS = {aten.mm.default, aten.bmm.default, aten.addmm.default, aten.baddbmm.default,
            aten.dot.default, aten.mv.default, aten.mse_loss.default}  # fmt: skip


class InputDtypes(TorchDispatchMode):
    """Records each op run with the dtypes of its tensor inputs, as the device sees them
    (after autocast has cast them)."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[object, set[torch.dtype]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        dtypes = {leaf.dtype for leaf in tree_leaves((args, kwargs))
                  if isinstance(leaf, torch.Tensor)}  # fmt: skip
        self.seen.append((func, dtypes))
        return func(*args, **kwargs)


@pytest.mark.parametrize("regions", [(), (Region(LEFT, (0,)), Region(1 - LEFT, (0,)))],
                         ids=["whole picture", "regions"])  # fmt: skip
def test_mixed_precision_forms_grams_and_losses_in_fp32(random_network, monkeypatch, regions):
    """The network runs in bfloat16; every matrix product and loss gets fp32 inputs:
    bfloat16's 8-bit mantissa would round a Gram's sums of H·W products badly."""
    monkeypatch.setattr(run_module, "has_bfloat16", lambda device: True)
    settings = BASE.replace(precision="mixed", style_statistic="gram+moments", steps=2)
    with InputDtypes() as recorded:
        run = StyleTransfer(photo(), [painting()], settings, random_network, regions=regions)
        run_all(run)
    assert run.precision == "mixed"
    assert any(func is aten.convolution.default and torch.bfloat16 in dtypes
               for func, dtypes in recorded.seen)  # fmt: skip
    products = [(func, dtypes) for func, dtypes in recorded.seen if func in PRODUCTS]
    assert products
    assert [(func, dtypes) for func, dtypes in products if dtypes != {torch.float32}] == []
