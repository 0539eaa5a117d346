"""Regions' plumbing (engine/regions.py) on a random VGG: masks sized to each layer,
guided statistics, checks with clear messages; behaviour is in test_regions_trained.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from engine.losses import feature_moments, gram_matrix
from engine.regions import (
    Region,
    RegionError,
    check_regions,
    guided_gram,
    guided_moments,
    layer_masks,  # fmt: skip
    load_mask,
    output_masks,
)
from engine.run import StyleTransfer
from engine.settings import RunSettings
from tests.engine.helpers import checkers, painting, photo


def test_a_full_mask_gives_the_ordinary_statistics():
    features = torch.rand(1, 8, 12, 10)
    full = torch.ones(1, 1, 12, 10)
    assert torch.allclose(guided_gram(features, full), gram_matrix(features)[0], atol=1e-6)
    for guided, plain in zip(guided_moments(features, full), feature_moments(features),
                             strict=True):  # fmt: skip
        assert torch.allclose(guided, plain, atol=1e-6)


def test_a_half_mask_sees_only_its_half():
    features = torch.rand(1, 4, 8, 8)
    features[..., 4:] = 0  # nothing on the right
    left = torch.zeros(1, 1, 8, 8)
    left[..., :4] = 1
    assert torch.allclose(guided_gram(features, left), gram_matrix(features[..., :4])[0])


def test_layer_masks_have_each_layers_size(random_network):
    settings = RunSettings(size=70, steps=1, device="cpu")  # odd sizes: floor pooling
    run = StyleTransfer(photo(70, 53), [painting()], settings, random_network)
    features = run._features(run._content)
    masks = output_masks([Region(np.ones((5, 9), np.float32), (0,))], 53, 70, run.device)
    shaped = layer_masks(masks, {name: f.shape[-2:] for name, f in features.items()})
    for name, feature in features.items():
        assert shaped[name].shape[-2:] == feature.shape[-2:]


def test_overlapping_masks_share_their_pixels():
    ones = np.ones((4, 4), np.float32)
    masks = output_masks([Region(ones, (0,)), Region(ones, (1,))], 4, 4, torch.device("cpu"))
    assert torch.allclose(masks.sum(0), torch.ones(1, 4, 4))


@pytest.mark.parametrize("region, message", [
    (Region(np.zeros((4, 4), np.float32), (0,)), "empty"),
    (Region(np.ones((4, 4), np.float32)), "needs a style"),
    (Region(np.ones((4, 4), np.float32), (3,)), "not loaded"),
    (Region(np.ones((4, 4), np.float32), (0,), keep=True), "has no styles"),
    (Region(np.full((4, 4), 2, np.float32), (0,)), r"\[0, 1\]"),
    (Region(np.ones((4, 4), np.float32), (0,), blend=(1, 2)), "blend"),
])  # fmt: skip
def test_unusable_regions_are_named(region, message):
    with pytest.raises(RegionError, match=f"region 1: .*{message}"):
        check_regions([region], style_count=2)
    with pytest.raises(RegionError, match="at most 8"):
        check_regions([Region(np.ones((2, 2), np.float32), (0,))] * 9, style_count=1)


def test_mask_files_bad_ones_say_why(tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk" * 20)
    with pytest.raises(RegionError, match="corrupt.png"):
        load_mask(corrupt)
    black = tmp_path / "black.png"
    Image.new("L", (8, 8), 0).save(black)
    with pytest.raises(RegionError, match="empty"):
        load_mask(black)
    with pytest.raises(RegionError, match="not found"):
        load_mask(tmp_path / "missing.png")
    alpha = tmp_path / "alpha.png"
    image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    image.putpixel((2, 2), (0, 0, 0, 255))  # painted black on transparency: still in it
    image.save(alpha)
    assert load_mask(alpha)[2, 2] == 1 and load_mask(alpha)[0, 0] == 0


def test_a_mask_of_another_size_is_resized_and_edits_reuse_targets(random_network):
    settings = RunSettings(size=48, steps=4, scales=(32, 48), device="cpu",
                           style_statistic="gram+moments")  # fmt: skip
    small = np.zeros((10, 30), np.float32)  # another size and shape than the photo's
    small[:, :15] = 1
    regions = [Region(small, (0,)), Region(1 - small, (1,))]
    run = StyleTransfer(photo(64, 48), [painting(), checkers()], settings, random_network,
                        regions=regions)  # fmt: skip
    for _ in range(2):
        run.step()
    assert run._region_targets.computed == 2
    run.update_regions([Region(1 - small, (0,)), Region(small, keep=True, content_boost=5)])
    assert run._region_targets.computed == 2  # the same painting: its target is kept
    run.update_regions([Region(small, (0,), style_masks=(small,)), Region(1 - small, (1,))])
    assert run._region_targets.computed == 3  # a painting mask never seen: one new target
    run.update(style_blend=(1.0, 3.0))  # a live blend reaches the regions' losses
    assert torch.allclose(run._style_losses["relu1_1"].parts[0].gram.blend, torch.ones(1))
    while not run.done:  # coarse to fine: the masks follow the image to 48 px
        report = run.step()
    assert report.size == (48, 36) and np.isfinite(report.losses["total"])
    with pytest.raises(RegionError, match="empty"):
        run.update_regions([Region(small * 0, (0,))])
