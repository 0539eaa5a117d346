"""The options beyond the classic method: each one on and off."""

import math

import torch

from engine.color import match_color_statistics
from engine.images import to_tensor
from engine.losses import MomentLoss, feature_moments
from engine.run import StyleTransfer
from engine.settings import FALLING_LAYER_WEIGHTS, RunSettings, sqrt2_scales
from engine.vgg import VGGFeatures, random_state_dict
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.engine.helpers import painting, photo

BASE = RunSettings(size=64, steps=12, optimizer="adam", learning_rate=0.05,
                   style_weight=RANDOM_NET_STYLE_WEIGHT, tv_weight=0.0, device="cpu")  # fmt: skip


def shown_frames(run: StyleTransfer) -> list[torch.Tensor]:
    frames = []
    while not run.done:
        run.step()
        frames.append(run.current_image())
    return frames


def test_averaged_iterate_changes_less_from_frame_to_frame(random_network):
    def jitter(average: bool) -> float:
        run = StyleTransfer(photo(), [painting()], BASE.replace(average=average, steps=20),
                            random_network)  # fmt: skip
        frames = shown_frames(run)[10:]
        return sum((b - a).abs().mean().item() for a, b in zip(frames, frames[1:], strict=False))

    assert jitter(average=True) < 0.7 * jitter(average=False)


def test_averaged_iterate_is_bias_corrected_and_restarts_per_scale(random_network):
    settings = BASE.replace(average=True, scales=(32, 64), steps=2)
    run = StyleTransfer(photo(), [painting()], settings, random_network)
    run.step()
    # After one step the corrected average is exactly the iterate, not a faded copy of it.
    assert torch.allclose(run.current_image(), run.image.detach().clamp(0, 1), atol=1e-6)
    run.step(), run.step()
    assert run.current_image().shape[-1] == 64 and run._average_steps == 1


def test_moment_loss_is_zero_for_the_same_statistics_and_blends_in_moment_space():
    a, b = torch.randn(1, 8, 6, 6), torch.randn(1, 8, 6, 6) * 2 + 1
    (ma, ca), (mb, cb) = feature_moments(a), feature_moments(b)
    single = MomentLoss(ma[None], ca[None], torch.ones(1))
    assert single(a).abs() < 1e-3 and single(b) > 1
    blended = MomentLoss(torch.stack([ma, mb]), torch.stack([ca, cb]), torch.tensor([1.0, 0.0]))
    assert torch.allclose(blended(b), single(b), rtol=1e-4)
    blended.set_blend(torch.tensor([1.0, 1.0]))
    both = torch.cat([a, b], dim=-1)  # pooling the two samples = averaging their moments
    mean, cov = feature_moments(both)
    assert torch.allclose(blended.target_mean, mean, atol=1e-5)
    assert torch.allclose(blended.target_cov, cov, atol=1e-4)


def test_moment_statistics_drive_the_style(random_network):
    for statistic in ("moments", "gram+moments"):
        run = StyleTransfer(photo(), [painting()], BASE.replace(style_statistic=statistic),
                            random_network)  # fmt: skip
        reports = [run.step() for _ in range(12)]
        assert reports[-1].losses["style"] < 0.6 * reports[0].losses["style"], statistic


def test_padding_mode_reaches_the_first_block_only():
    net = VGGFeatures(random_state_dict("vgg19"), ["relu2_1"], padding="replicate")
    modes = {name: m.padding_mode for name, m in net.net.named_children() if name[:4] == "conv"}
    assert modes == {"conv1_1": "replicate", "conv1_2": "replicate", "conv2_1": "zeros"}


def border_and_interior(height: int, width: int, strip: int) -> tuple[torch.Tensor, ...]:
    """Masks of the outer `strip` pixels and of what lies a further strip inside them."""
    border = torch.ones(height, width, dtype=torch.bool)
    border[strip:-strip, strip:-strip] = False
    interior = torch.zeros(height, width, dtype=torch.bool)
    interior[2 * strip : -2 * strip, 2 * strip : -2 * strip] = True
    return border, interior


def test_padding_changes_the_result_most_at_its_border(random_network):
    # Padding only decides what the first convolutions see beyond the edge, so the pictures
    # it gives must part most at the border. Whether zeros gives the darker border there
    # could not be shown at test sizes: on this network and on the trained VGG16 (96 px,
    # 50 steps) the sign of border-minus-interior brightness changed from run to run.
    def result(padding: str) -> torch.Tensor:
        run = StyleTransfer(photo(), [painting()], BASE.replace(padding=padding), random_network)
        shown_frames(run)
        return run.current_image()[0]

    zeros = result("zeros")
    border, interior = border_and_interior(*zeros.shape[-2:], strip=3)
    for padding in ("replicate", "reflect"):
        parted = (zeros - result(padding)).abs().mean(0)
        ratio = parted[border].mean() / parted[interior].mean()
        assert ratio > 1.2, (padding, ratio.item())  # measured: 1.33 and 1.43


def test_scaled_average_pooling_keeps_activation_magnitude():
    state, image = random_state_dict("vgg19"), torch.rand(1, 3, 64, 64)
    magnitude = {pooling: VGGFeatures(state, ["relu4_1"], pooling=pooling)(image)["relu4_1"]
                 .mean().item() for pooling in ("max", "avg", "avg_scaled")}  # fmt: skip
    assert magnitude["avg"] < 0.5 * magnitude["max"]
    # Magnitudes compare as ratios: the scaled average is nearer max pooling's on a log scale.
    log_gap = lambda pooling: abs(math.log(magnitude[pooling] / magnitude["max"]))  # noqa: E731
    assert log_gap("avg_scaled") < log_gap("avg")


def test_adam_moments_are_carried_across_scales(random_network):
    settings = BASE.replace(scales=(32, 64), steps=3, carry_moments=True)
    run = StyleTransfer(photo(), [painting()], settings, random_network)
    for _ in range(4):
        run.step()
    state = run.optimizer.state[run.image]
    assert state["exp_avg"].shape == run.image.shape and int(state["step"]) == 4
    cold = StyleTransfer(photo(), [painting()], settings.replace(carry_moments=False),
                         random_network)  # fmt: skip
    for _ in range(4):
        cold.step()
    assert int(cold.optimizer.state[cold.image]["step"]) == 1


def test_color_match_gives_the_style_the_photo_palette():
    style, content = to_tensor(painting()), to_tensor(photo())
    matched = match_color_statistics(style, content)
    flat, target = matched.reshape(3, -1), content.reshape(3, -1)
    assert torch.allclose(flat.mean(1), target.mean(1), atol=0.02)
    assert torch.allclose(torch.cov(flat), torch.cov(target), atol=0.01)


def test_color_match_in_float32_gives_the_photo_statistics_exactly():
    # MPS has no float64, so the match runs in float32. At 512 px a float32 matmul's
    # covariance was 1.7e-4 off (the matched image 0.6 levels from float64's); a mean of
    # products is 4.9e-5 off, all of it the 1e-5 regularisation, as in float64.
    style = to_tensor(painting(512, 512))
    content = 0.35 + 0.3 * to_tensor(photo(512, 384))  # mid-tones: the match clips nothing
    matched = match_color_statistics(style, content)
    assert matched.dtype == torch.float32 and 0 < matched.min() and matched.max() < 1

    def moments(image):
        pixels = image.double().reshape(3, -1)
        centred = pixels - pixels.mean(1, keepdim=True)
        return pixels.mean(1), centred @ centred.T / pixels.shape[1]

    (mean, covariance), (target_mean, target_covariance) = moments(matched), moments(content)
    assert torch.allclose(mean, target_mean, rtol=0, atol=1e-6)
    assert torch.allclose(covariance, target_covariance, rtol=0, atol=1e-4)


def test_color_match_run_keeps_colours_closer_to_the_photo(random_network):
    def colour_distance(color_match: bool) -> float:
        run = StyleTransfer(photo(), [painting()], BASE.replace(color_match=color_match),
                            random_network)  # fmt: skip
        shown_frames(run)
        mean = run.current_image().reshape(3, -1).mean(1)
        return (mean - to_tensor(photo()).reshape(3, -1).mean(1)).abs().sum().item()

    assert colour_distance(True) < colour_distance(False)


def test_falling_layer_profile_and_sqrt2_scales():
    assert abs(sum(FALLING_LAYER_WEIGHTS) - 5) < 1e-4
    assert list(FALLING_LAYER_WEIGHTS) == sorted(FALLING_LAYER_WEIGHTS, reverse=True)
    assert sqrt2_scales(512) == (128, 181, 256, 362, 512)
