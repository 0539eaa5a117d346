"""On a trained VGG16 (tests/trained_vgg.py): the behaviour a user sees with real weights.

A random network never showed these failures (the first L-BFGS steps overshooting into
saturated noise, a run frozen by dead ReLUs, loss weights that only suited one
preprocessing), so they are checked on trained weights, at small sizes, on the CPU.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from engine.cli import main
from engine.images import to_tensor
from engine.lbfgs import MAX_RADIUS
from engine.run import Network, RunStalled, StyleTransfer
from engine.settings import RunSettings
from engine.vgg import read_state_dict
from tests.engine.helpers import painting, photo
from tests.trained_vgg import TrainedWeightsUnavailable, trained_vgg16_path

pytestmark = pytest.mark.trained
SIZE = 96


@pytest.fixture(scope="session")
def trained_file() -> Path:
    try:
        return trained_vgg16_path()
    except TrainedWeightsUnavailable as error:
        if os.environ.get("CI"):
            raise  # CI must run these tests: a skip there would hide a broken fetch
        pytest.skip(f"no trained VGG16: {error}")


@pytest.fixture(scope="session")
def trained_state(trained_file) -> dict[str, torch.Tensor]:
    return read_state_dict(trained_file, "vgg16")


def network(state, preprocessing: str) -> Network:
    return Network(state, "vgg16", preprocessing)


def images() -> tuple[Image.Image, Image.Image]:
    """The suite's own small photo and painting (tests make their images; see helpers)."""
    return photo(128, 96), painting(128, 128)


def settings(**changes) -> RunSettings:
    return RunSettings(model="vgg16", size=SIZE, steps=50, device="cpu").replace(**changes)


def unweighted(run: StyleTransfer, name: str) -> float:
    weight = {"style": run.settings.style_weight, "content": run.settings.content_weight}[name]
    return run._last_terms[name] / weight


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("preprocessing", ["caffe", "torchvision"])
def test_style_distance_falls_and_the_photo_stays_recognisable(trained_state, preprocessing,
                                                               optimizer):  # fmt: skip
    content, style = images()
    run = StyleTransfer(content, [style], settings(optimizer=optimizer),
                        network(trained_state, preprocessing))  # fmt: skip
    run.step()
    start = unweighted(run, "style")
    while not run.done:
        run.step()
    assert unweighted(run, "style") < 0.35 * start
    photo_tensor, shown = run._content, run.current_image()
    # Recognisable, judged apart from the network: the result's broad light and dark
    # follow the photo's. And really repainted: far from the photo pixel by pixel.
    assert _structure_correlation(shown, photo_tensor) > 0.6
    assert (shown - photo_tensor).abs().mean() > 0.05


@pytest.mark.parametrize("preprocessing", ["caffe", "torchvision"])
def test_first_frames_fall_smoothly_without_saturated_noise(trained_state, preprocessing):
    content, style = images()
    # Equal layer weights: this is about the optimiser's first steps, and the suite's
    # painting is pixel noise (roughness 0.51, 5x a real painting's), which the default's
    # shallow layers (relu5_1 off, issue 23) rightly paint in within 10 steps; on the
    # astronaut x Matisse the default's picture is less rough than the old one's.
    run = StyleTransfer(content, [style], settings(steps=10, style_layer_weights=(1.0,) * 5),
                        network(trained_state, preprocessing))  # fmt: skip
    photo_tensor = run._content
    start_saturated = _saturated(photo_tensor)
    start_roughness = _roughness(photo_tensor)
    totals = []
    for _ in range(10):
        report = run.step()
        totals.append(report.losses["total"])
        frame = run.current_image()
        assert _saturated(frame) < start_saturated + 0.05
        assert _roughness(frame) < 2.5 * start_roughness
        assert (frame - photo_tensor).abs().max() < 0.6  # no pixel thrown across the range
    # Never an overshoot (the old L-BFGS reached 1e30 at step 3): a point that raises the
    # loss may be tried, but it is undone, and the loss falls from there.
    assert max(totals) <= 1.1 * totals[0]
    assert min(totals[2:]) < 0.9 * totals[0]
    assert totals[-1] == min(totals[3:])
    # And the picture moves at once: no budget spent on steps too small to see in 8 bits.
    first = StyleTransfer(content, [style], settings(steps=2),
                          network(trained_state, preprocessing))  # fmt: skip
    first.step()
    assert (first.preview() != _eight_bit(first._content)).mean() > 0.1  # was 0 to step 30


def test_a_loss_weight_means_the_same_on_both_preprocessings(trained_state):
    """The same weights, one network seen through two preprocessings whose activations
    differ about 50-fold: the loss terms and the progress they make stay comparable."""
    content, style = images()
    progress = {}
    for preprocessing in ("caffe", "torchvision"):
        run = StyleTransfer(content, [style], settings(steps=30),
                            network(trained_state, preprocessing))  # fmt: skip
        run.step()
        start = unweighted(run, "style")
        while not run.done:
            run.step()
        progress[preprocessing] = (start, unweighted(run, "style") / start)
    (caffe_start, caffe_ratio), (tv_start, tv_ratio) = progress["caffe"], progress["torchvision"]
    assert 0.5 < caffe_start / tv_start < 2
    assert 0.5 < caffe_ratio / tv_ratio < 2


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_an_injected_divergence_is_undone_and_the_run_goes_on(trained_state, optimizer,
                                                              monkeypatch):  # fmt: skip
    content, style = images()
    run = StyleTransfer(content, [style], settings(optimizer=optimizer, steps=20),
                        network(trained_state, "caffe"))  # fmt: skip
    for _ in range(5):
        run.step()
    good = run._last_good.clone()
    real_loss = run._loss
    monkeypatch.setattr(run, "_loss", lambda: real_loss() * float("inf"))
    report = run.step()
    assert report.rolled_back and "NaN or infinite" in report.message
    # Back at the last evaluated image (L-BFGS then takes its next, smaller step from it).
    assert torch.equal(run._last_good, good)
    assert (run.image.detach() - good).abs().max() <= MAX_RADIUS / 4 + 1e-6
    monkeypatch.setattr(run, "_loss", real_loss)
    before = run.step().losses["total"]
    while not run.done:
        report = run.step()
    assert torch.isfinite(run.image).all() and report.losses["total"] < before


def test_an_injected_stall_stops_the_run_with_a_message(trained_state, monkeypatch):
    """As when every ReLU is dead (what a far overshoot used to cause): the gradient is zero
    and the loss frozen. The run restarts its optimizer, then stops and says why, never spins."""
    content, style = images()
    run = StyleTransfer(content, [style], settings(steps=50), network(trained_state, "caffe"))
    for _ in range(3):
        run.step()
    monkeypatch.setattr(run, "_loss", lambda: (run.image * 0).sum() + 7.0)
    messages = []
    with pytest.raises(RunStalled, match="stopped making progress.*last good image is kept"):
        for _ in range(20):
            messages.append(run.step().message)
    assert any("optimizer restarted" in message for message in messages)
    assert run.iteration < 3 + 20
    assert torch.equal(run.image.detach(), run._last_good)


def test_neural_style_weights_on_the_caffe_path_no_longer_freeze(trained_file, tmp_path):
    """The issue's reproduction: content 5, style 100, Caffe preprocessing, 20 steps. The
    loss used to jump to 1e30 at step 3 and then stay the same to the last digit."""
    content, style = tmp_path / "photo.png", tmp_path / "style.png"
    for image, path in zip(images(), (content, style), strict=True):
        image.save(path)
    out, report = tmp_path / "out.png", tmp_path / "run.json"
    argv = ["stylize", str(content), str(style), "--model", "vgg16", "--preprocessing", "caffe",
            "--weights", str(trained_file), "--content-weight", "5", "--style-weight", "100",
            "--size", "128", "--steps", "20", "-o", str(out), "--report", str(report),
            "--quiet"]  # fmt: skip
    assert main(argv) == 0

    totals = [step["total"] for step in json.loads(report.read_text())["steps"]]
    assert max(totals) <= totals[0] * 1.1
    assert totals[-1] < 0.7 * totals[0]
    assert len(set(totals[3:])) == len(totals[3:])  # never frozen
    result = to_tensor(Image.open(out).convert("RGB"))
    assert 0.02 < result.std() and result.mean() > 0.1


def _structure_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Correlation of the two images' blurred luminance (8x8 block means)."""
    def broad(image):
        luminance = image.mean(dim=1, keepdim=True)
        return torch.nn.functional.avg_pool2d(luminance, 8).flatten()

    return torch.corrcoef(torch.stack([broad(a), broad(b)]))[0, 1].item()


def _eight_bit(image: torch.Tensor):
    return image[0].mul(255).round().byte().permute(1, 2, 0).numpy()


def _saturated(image: torch.Tensor) -> float:
    """Fraction of pixels with a channel clipped at 0 or 1."""
    clipped = (image <= 1 / 255) | (image >= 254 / 255)
    return clipped.any(dim=1).float().mean().item()


def _roughness(image: torch.Tensor) -> float:
    """Mean absolute difference of neighbouring pixels: noise makes it jump."""
    dx = (image[..., 1:] - image[..., :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return (dx + dy).item()


def _judge(trained_file, content, style, folder):
    """bench/judge.py, a score neither the engine nor neural-style optimises."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "bench" / "judge.py"
    spec = importlib.util.spec_from_file_location("impasto_bench_judge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    content.save(folder / "photo.png")
    style.save(folder / "painting.png")
    return module.Judge(trained_file, folder / "photo.png", folder / "painting.png")


def test_a_settled_run_stops_early_and_is_as_painted_as_the_full_run(trained_state, trained_file,
                                                                     tmp_path):  # fmt: skip
    """Stop on convergence (the default): far fewer steps than the ceiling, and by the
    judge a picture as good as the one from every step of the ceiling."""
    content, style = photo(128, 96), painting(128, 128)
    judge = _judge(trained_file, content, style, tmp_path)
    scores, steps = {}, {}
    for settle in (RunSettings().settle, 0.0):
        run = StyleTransfer(content, [style], settings(size=128, steps=200, settle=settle),
                            network(trained_state, "caffe"))  # fmt: skip
        while not run.done:
            report = run.step()
        steps[settle], scores[settle] = report.iteration, judge.score_tensor(run.current_image())
    settled, full = scores[RunSettings().settle], scores[0.0]
    # Here the picture's change per step falls to a plateau of 0.5-0.7 levels from step 80
    # on, right at the threshold, so where it first dips under it depends on the rounding
    # of the convolutions: 132 steps with oneDNN on 1 or 2 threads, 142 with it off, under
    # 120 on another CPU. Any of those is far short of the ceiling, for the same picture.
    assert steps[RunSettings().settle] < 0.8 * steps[0.0] and steps[0.0] == 200
    assert settled["style"] < 0.6  # well painted (the photo scores 1)
    assert settled["J"] < full["J"] + 0.03
