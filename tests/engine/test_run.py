"""The optimisation: it moves toward the style, obeys live changes, and survives NaN."""

import gc
import sys
import types
import weakref

import numpy as np
import pytest
import torch

import engine.run as run_module
from engine.images import to_tensor
from engine.run import InputTooSmall, StyleTransfer, keep_luminance_only
from engine.settings import RunSettings
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.engine.helpers import painting, photo

SMALL = RunSettings(size=64, steps=50, style_weight=RANDOM_NET_STYLE_WEIGHT, tv_weight=0.0,
                    device="cpu")  # fmt: skip


def run_all(run: StyleTransfer) -> list:
    reports = []
    while not run.done:
        reports.append(run.step())
    return reports


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_style_loss_falls_by_half_within_50_steps(random_network, optimizer):
    run = StyleTransfer(photo(), [painting()], SMALL.replace(optimizer=optimizer), random_network)
    reports = run_all(run)
    assert len(reports) == 50
    first, last = reports[0].losses["style"], reports[-1].losses["style"]
    assert last < 0.5 * first, (first, last)


def test_result_takes_on_the_style_colours(random_network):
    content, style = photo(), painting()
    run = StyleTransfer(content, [style], SMALL, random_network)
    run_all(run)
    result = np.asarray(run.result(), dtype=float).reshape(-1, 3).mean(0)
    before = np.asarray(content, dtype=float).reshape(-1, 3).mean(0)
    target = np.asarray(style, dtype=float).reshape(-1, 3).mean(0)
    assert np.abs(result - target).sum() < 0.6 * np.abs(before - target).sum()


def test_changing_style_weight_mid_run_changes_trajectory_without_new_targets(random_network):
    settings = SMALL.replace(steps=30, optimizer="adam")
    plain = StyleTransfer(photo(), [painting()], settings, random_network)
    changed = StyleTransfer(photo(), [painting()], settings, random_network)
    for _ in range(4):
        plain.step(), changed.step()
    grams_before = {k: loss.parts[0].gram.grams for k, loss in changed._style_losses.items()}
    calls = []
    changed.net.register_forward_hook(lambda module, args, out: calls.append(args[0].shape))
    changed.update(style_weight=RANDOM_NET_STYLE_WEIGHT * 100)
    assert calls == []  # no network pass over the styles or content
    a, b = run_all(plain), run_all(changed)
    assert all(loss.parts[0].gram.grams is grams_before[k]
               for k, loss in changed._style_losses.items())  # fmt: skip
    assert len(calls) == len(b)  # one pass per step, on the image being optimised
    assert b[-1].iteration == a[-1].iteration == 30
    # A much stronger style weight trades content for style.
    assert b[-1].losses["style"] / 100 < a[-1].losses["style"]
    assert b[-1].losses["content"] > a[-1].losses["content"]


def test_blend_one_to_zero_equals_the_single_style(random_network):
    settings = SMALL.replace(steps=5)
    single = StyleTransfer(photo(), [painting()], settings, random_network)
    blended = StyleTransfer(photo(), [painting(), photo(seed=7)],
                            settings.replace(style_blend=(1.0, 0.0)), random_network)  # fmt: skip
    run_all(single), run_all(blended)
    assert torch.allclose(single.image, blended.image, atol=1e-5)


def test_blend_change_mixes_stored_grams(random_network):
    run = StyleTransfer(photo(), [painting(), photo(seed=7)], SMALL, random_network)
    loss = run._style_losses["relu1_1"].parts[0].gram
    run.update(style_blend=(0.0, 1.0))
    assert torch.allclose(loss.target, loss.grams[1])
    run.update(style_blend=(3.0, 1.0))
    assert torch.allclose(loss.target, 0.75 * loss.grams[0] + 0.25 * loss.grams[1])


def test_seeded_noise_runs_repeat_exactly(random_network):
    settings = SMALL.replace(steps=5, init="noise", seed=42)
    a = StyleTransfer(photo(), [painting()], settings, random_network)
    b = StyleTransfer(photo(), [painting()], settings, random_network)
    c = StyleTransfer(photo(), [painting()], settings.replace(seed=43), random_network)
    run_all(a), run_all(b), run_all(c)
    assert torch.equal(a.image, b.image)
    assert not torch.equal(a.image, c.image)


def test_preserve_colors_keeps_the_content_chroma(random_network):
    content = photo()
    run = StyleTransfer(content, [painting()], SMALL.replace(steps=10, preserve_colors=True),
                        random_network)  # fmt: skip
    run_all(run)
    shown = run.current_image()
    yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    chroma = torch.einsum("ij,njhw->nihw", yiq, shown)[:, 1:]
    content_chroma = torch.einsum("ij,njhw->nihw", yiq, to_tensor(content))[:, 1:]
    raw_chroma = torch.einsum("ij,njhw->nihw", yiq, run.image.detach())[:, 1:]
    kept = (chroma - content_chroma).abs().mean()
    changed = (raw_chroma - content_chroma).abs().mean()
    assert kept < 0.2 * changed  # only out-of-gamut clipping moves the chroma at all


def test_luminance_only_keeps_luminance_of_the_result():
    generator = torch.Generator().manual_seed(0)
    result = torch.rand(1, 3, 8, 8, generator=generator) * 0.4 + 0.3
    # Mildly coloured content, so the mixed colours stay inside the RGB cube (no clipping).
    content = torch.rand(1, 3, 8, 8, generator=generator) * 0.1 + 0.45
    mixed = keep_luminance_only(result, content)
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    assert torch.allclose((mixed * weights).sum(1), (result * weights).sum(1), atol=1e-4)


def test_coarse_to_fine_upsamples_between_scales(random_network):
    settings = SMALL.replace(scales=(32, 64), size=64, steps=3)
    run = StyleTransfer(photo(64, 48), [painting()], settings, random_network)
    reports = run_all(run)
    assert [r.size for r in reports] == [(32, 24)] * 3 + [(64, 48)] * 3
    assert [r.scale_index for r in reports] == [0, 0, 0, 1, 1, 1]
    assert run.result().size == (64, 48)


def test_init_from_a_given_image(random_network):
    start = painting(64, 48)
    run = StyleTransfer(photo(), [painting()], SMALL.replace(init="start.png", steps=1),
                        random_network, init_image=start)  # fmt: skip
    assert torch.allclose(run.image.detach(), to_tensor(start), atol=1e-6)


def test_nan_loss_rolls_back_and_lowers_the_learning_rate(random_network):
    run = StyleTransfer(photo(), [painting()], SMALL.replace(optimizer="adam", steps=10),
                        random_network)  # fmt: skip
    run.step()
    good = run.image.detach().clone()  # what step 2 evaluates: the last image known good
    run.step()
    # A loss that turns NaN (a NaN weight cannot be given: RunSettings refuses it).
    real_loss = run._loss
    run._loss = lambda: real_loss() * float("nan")
    report = run.step()
    assert report.rolled_back and "NaN" in report.message
    assert torch.equal(run.image.detach(), good)
    assert run.settings.lr == pytest.approx(0.01)
    del run._loss
    assert not run.step().rolled_back
    assert torch.isfinite(run.image).all()


def test_pause_is_simply_not_stepping(random_network):
    run = StyleTransfer(photo(), [painting()], SMALL.replace(steps=6), random_network)
    run.step(), run.step()
    frozen = run.image.detach().clone()
    run.update(tv_weight=5.0)  # weights changed while "paused"
    assert torch.equal(run.image.detach(), frozen) and run.iteration == 2
    report = run.step()  # resume: on from the paused picture, with the new weight
    assert report.iteration == 3 and report.settings.tv_weight == 5.0
    assert torch.equal(run._last_good, frozen)  # the step was taken at the paused picture
    assert not torch.equal(run.image.detach(), frozen)


def test_preview_is_a_detached_downscaled_copy(random_network):
    run = StyleTransfer(photo(64, 48), [painting()], SMALL.replace(steps=1), random_network)
    preview = run.preview(max_side=32)
    assert preview.shape == (24, 32, 3) and preview.dtype == np.uint8
    preview[:] = 0
    assert run.image.detach().abs().sum() > 0


def test_too_thin_input_is_refused_with_a_message(random_network):
    from PIL import Image

    with pytest.raises(InputTooSmall, match="content image is too small or too thin"):
        StyleTransfer(Image.new("RGB", (1000, 10)), [painting()], SMALL, random_network)
    with pytest.raises(InputTooSmall, match="style image 2"):
        StyleTransfer(photo(), [painting(), Image.new("RGB", (2, 400))], SMALL, random_network)
    # A 1×1 picture is just a colour: usable, upscaled.
    StyleTransfer(photo(), [Image.new("RGB", (1, 1), "navy")], SMALL, random_network)


def tensors_held_by(root: object, shared: list[torch.Tensor]) -> list[torch.Tensor]:
    """Every tensor reachable from `root` (through objects, not through code), less `shared`."""
    seen, found, todo = {id(t) for t in shared}, [], [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, torch.Tensor):
            found.append(obj)
        todo.extend(gc.get_referents(obj))
    return found


def test_close_frees_every_tensor_of_the_run(random_network):
    # The worker keeps its StyleTransfer until the next run starts: close() alone must give
    # back the memory (on a GPU, the image, its features and the optimizer's history).
    run = StyleTransfer(photo(), [painting()], SMALL.replace(steps=3), random_network)
    run.step()
    held = tensors_held_by(run, shared=list(random_network.state_dict.values()))
    assert any(t is run.image for t in held)  # the walk does find the run's tensors
    megabytes = sum(t.untyped_storage().nbytes() for t in held) / 1e6
    assert megabytes > 10  # the network's copy and the optimizer's history, at least
    refs = [(weakref.ref(t), tuple(t.shape)) for t in held]
    del held
    run.close()
    gc.collect()
    assert [shape for ref, shape in refs if ref() is not None] == []


def test_out_of_memory_keeps_the_last_good_image_and_can_go_on(random_network, monkeypatch):
    from engine.run import RunOutOfMemory

    run = StyleTransfer(photo(), [painting()], SMALL.replace(steps=6), random_network)
    run.step(), run.step()
    good = run.image.detach().clone()
    real_loss = run._loss

    def exhausted():
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(run, "_loss", exhausted)
    with pytest.raises(RunOutOfMemory, match="out of memory on CPU at 64×48 px"):
        run.step()
    assert torch.equal(run.image.detach(), good) and run.iteration == 2
    monkeypatch.setattr(run, "_loss", real_loss)
    assert run.step().iteration == 3


def test_display_only_changes_keep_lbfgs_memory(random_network):
    run = StyleTransfer(photo(), [painting()], SMALL.replace(steps=4), random_network)
    run.step(), run.step()
    optimizer = run.optimizer
    run.update(average=True, preserve_colors=True)
    assert run.optimizer is optimizer
    run.update(style_weight=2.0)
    assert run.optimizer is not optimizer


def loss_in_fp32(image, settings: RunSettings, network) -> float:
    """The fp32 objective at `image`: the loss the first step of a run from it reports."""
    settings = settings.replace(init="given", steps=1, optimizer="adam", precision="fp32")
    return (
        StyleTransfer(photo(), [painting()], settings, network, init_image=image)
        .step()
        .losses["total"]
    )


def test_mixed_precision_runs_the_network_in_bfloat16_and_optimises_as_well(
    random_network, monkeypatch
):
    # This CPU has no bfloat16 units, so the engine would fall back; force the mixed path.
    monkeypatch.setattr(run_module, "has_bfloat16", lambda device: True)
    settings = SMALL.replace(size=32, steps=12, optimizer="adam")
    results, conv_dtypes = {}, {}
    for precision in ("fp32", "mixed"):
        run = StyleTransfer(photo(), [painting()], settings.replace(precision=precision),
                            random_network)  # fmt: skip
        assert run.precision == precision
        conv = next(m for m in run.net.modules() if isinstance(m, torch.nn.Conv2d))
        seen = []
        conv.register_forward_hook(lambda module, args, out, seen=seen: seen.append(out.dtype))
        run_all(run)
        results[precision], conv_dtypes[precision] = run.result(), set(seen)
        # Targets and losses stay fp32 whatever the network runs in.
        assert {loss.parts[0].gram.grams.dtype for loss in run._style_losses.values()} == {
            torch.float32}  # fmt: skip
    assert conv_dtypes == {"fp32": {torch.float32}, "mixed": {torch.bfloat16}}
    start = loss_in_fp32(photo(), settings, random_network)
    fp32, mixed = (loss_in_fp32(results[p], settings, random_network) for p in ("fp32", "mixed"))
    assert mixed < 0.7 * start
    assert mixed < 1.15 * fp32, (start, fp32, mixed)


def test_mixed_precision_falls_back_to_fp32_where_bfloat16_is_slow(random_network, monkeypatch):
    monkeypatch.setattr(run_module, "has_bfloat16", lambda device: False)
    settings = SMALL.replace(size=32, steps=1, precision="mixed")
    run = StyleTransfer(photo(), [painting()], settings, random_network)
    conv = next(m for m in run.net.modules() if isinstance(m, torch.nn.Conv2d))
    seen = []
    conv.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    run.step()
    assert run.precision == "fp32" and set(seen) == {torch.float32}


@pytest.mark.parametrize("units", [True, False])
def test_auto_precision_is_mixed_exactly_where_the_device_has_bfloat16_units(
    random_network, monkeypatch, units
):
    monkeypatch.setattr(run_module, "has_bfloat16", lambda device: units)
    assert RunSettings().precision == "auto"  # the default
    run = StyleTransfer(photo(), [painting()], SMALL.replace(size=32, steps=1), random_network)
    conv = next(m for m in run.net.modules() if isinstance(m, torch.nn.Conv2d))
    seen = []
    conv.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    run.step()
    assert run.precision == ("mixed" if units else "fp32")
    assert set(seen) == {torch.bfloat16 if units else torch.float32}


def test_denormals_are_flushed_only_while_a_step_runs(random_network):
    # The flush-to-zero flag is per thread and governs Python's own floats too: left on,
    # it silently zeroed the caller's tiny numbers (and broke hypothesis in this suite).
    run = StyleTransfer(photo(), [painting()], SMALL.replace(steps=2), random_network)
    run.step()
    tiny = sys.float_info.min
    assert tiny / 2 > 0


def test_a_run_goes_on_from_a_picture_taken_at_a_step(random_network):
    """Continuing from a snapshot: the count, the scale and the steps left follow from its
    step, here the first step of the second scale of a coarse-to-fine run."""
    settings = SMALL.replace(steps=3, scales=(32, 64), init="snapshot")
    picture = photo().resize((32, 24))
    run = StyleTransfer(photo(), [painting()], settings, random_network, init_image=picture,
                        start_step=3)  # fmt: skip
    assert run.iteration == 3 and run.scale_index == 1
    reports = run_all(run)
    assert [r.iteration for r in reports] == [4, 5, 6]
    assert {r.size for r in reports} == {(64, 48)} and reports[-1].total_steps == 6
    with pytest.raises(ValueError, match="step 6 of 6"):
        StyleTransfer(photo(), [painting()], settings, random_network, init_image=picture,
                      start_step=6)  # fmt: skip


def test_restore_at_a_step_goes_back_to_its_scale(random_network):
    run = StyleTransfer(photo(), [painting()], SMALL.replace(steps=2, scales=(32, 64)),
                        random_network)  # fmt: skip
    run_all(run)
    early = photo().resize((32, 24))
    run.restore(early, step=1)
    assert (run.iteration, run.scale_index) == (1, 0) and tuple(run.image.shape[-2:]) == (24, 32)
    assert [r.iteration for r in run_all(run)] == [2, 3, 4]


def test_lbfgs_remembers_as_many_steps_as_asked(random_network):
    pairs = {}
    for memory in (3, 100):
        run = StyleTransfer(photo(), [painting()], SMALL.replace(lbfgs_memory=memory, steps=12),
                            random_network)  # fmt: skip
        for _ in range(12):  # 7 curvature pairs kept with room for them (the first few
            run.step()  # steps on the random net are too short to give any)
        pairs[memory] = len(run.optimizer.pairs)
    assert pairs[3] == 3 and pairs[100] > 3  # the short memory dropped its oldest pairs
