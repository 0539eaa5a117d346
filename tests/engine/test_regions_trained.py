"""Regions on a trained VGG16 (issue 15): each region takes its own painting's style, a
keep region keeps the photo, the edge between two styles shows no seam, and a mask edit
during a paused run changes the next steps without recomputing any style target."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.images import resize_longest, to_tensor
from engine.regions import Region, guided_gram, layer_masks
from engine.run import StyleTransfer
from tests.engine import test_trained
from tests.engine.helpers import checkers, painting, photo
from tests.engine.test_trained import network, settings

pytestmark = pytest.mark.trained
trained_file, trained_state = test_trained.trained_file, test_trained.trained_state  # fixtures
WIDTH, HEIGHT = 96, 72  # the run's size for a 128×96 photo at 96 px


def halves(soft: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Left and right halves with a linear soft edge `soft` px wide."""
    x = np.arange(WIDTH, dtype=np.float32)
    ramp = np.clip((WIDTH / 2 + soft / 2 - x) / max(soft, 1), 0, 1)
    left = np.repeat(ramp[None], HEIGHT, axis=0)
    return left, 1 - left


def two_style_run(state, regions, steps=40, **changes) -> StyleTransfer:
    return StyleTransfer(photo(128, 96), [painting(128, 128), checkers(128, 128)],
                         settings(steps=steps, **changes), network(state, "caffe"),
                         regions=regions)  # fmt: skip


def style_distance(run: StyleTransfer, image: torch.Tensor, mask: np.ndarray, style) -> float:
    """Relative Gram distance, summed over the style layers, between the part of `image`
    inside `mask` and the whole of the painting `style` (as the run sees it)."""
    layers = run.settings.style_layers
    with torch.no_grad():
        found = run._features(image)
        seen = run._features(to_tensor(resize_longest(style, max(WIDTH, HEIGHT))))
        masks = layer_masks(torch.as_tensor(mask)[None, None],
                            {layer: found[layer].shape[-2:] for layer in layers})  # fmt: skip
        total = 0.0
        for layer in layers:
            target = guided_gram(seen[layer], torch.ones_like(seen[layer][:, :1]))
            gram = guided_gram(found[layer], masks[layer])
            total += float((gram - target).pow(2).mean() / target.pow(2).mean())
    return total


@pytest.mark.parametrize("statistic", ["gram", "moments"])
def test_each_region_takes_its_own_painting(trained_state, statistic):
    left, right = halves()
    run = two_style_run(trained_state, [Region(left, (0,)), Region(right, (1,))],
                        style_statistic=statistic)  # fmt: skip
    styles, start = run._style_sources, run.current_image()
    while not run.done:
        run.step()
    end = run.current_image()
    for mask, own, other in ((left, 0, 1), (right, 1, 0)):
        core = (mask > 0.99).astype(np.float32)
        own_fall = (style_distance(run, end, core, styles[own])
                    / style_distance(run, start, core, styles[own]))  # fmt: skip
        other_fall = (style_distance(run, end, core, styles[other])
                      / style_distance(run, start, core, styles[other]))  # fmt: skip
        print(f"{statistic}: own painting x{own_fall:.3f}, other x{other_fall:.3f}")
        assert own_fall < 0.4 * other_fall
        assert own_fall < 0.5


@pytest.mark.parametrize("boost", [1.0, 10.0])
def test_a_keep_region_keeps_the_photo(trained_state, boost):
    left, right = halves()
    keep = Region(right, keep=True, content_boost=boost)
    run = two_style_run(trained_state, [Region(left, (0,)), keep])
    while not run.done:
        run.step()
    change = (run.current_image() - run._content).abs().mean(1)[0].numpy()
    kept, styled = change[:, WIDTH // 2 + 12 :].mean(), change[:, : WIDTH // 2 - 12].mean()
    print(f"content boost {boost}: mean pixel change: kept {kept:.4f}, styled {styled:.4f}")
    assert kept < 0.04  # 10 of 255 levels (measured 0.028, 0.028 with the boost)
    assert styled > 4 * kept


def test_the_edge_between_two_styles_shows_no_seam(trained_state):
    left, right = halves(soft=12)
    run = two_style_run(trained_state, [Region(left, (0,)), Region(right, (1,))])
    while not run.done:
        run.step()
    image = run.current_image()[0]
    across = (image[:, :, 1:] - image[:, :, :-1]).pow(2).mean((0, 1))  # per column gap
    middle = WIDTH // 2 - 1
    edge = across[middle - 3 : middle + 4].mean()
    inside = torch.cat([across[8 : middle - 12], across[middle + 12 : -8]]).mean()
    print(f"gradient energy across the edge {edge:.5f}, interior {inside:.5f}")
    assert edge < 1.5 * inside
    # The two sides are really painted differently (else no seam would be easy).
    assert (image[:, :, :30].mean((1, 2)) - image[:, :, -30:].mean((1, 2))).abs().max() > 0.1


def test_a_mask_edit_while_paused_repaints_only_what_changed(trained_state):
    left, right = halves()
    edited_left = left.copy()
    edited_left[: HEIGHT // 2, WIDTH // 2 + 8 :] = 1  # the top right now takes painting 1
    edited = [Region(edited_left, (0,)), Region(np.clip(right - edited_left, 0, 1), (1,))]
    runs = [two_style_run(trained_state, [Region(left, (0,)), Region(right, (1,))],
                          steps=50) for _ in range(2)]  # fmt: skip
    for run in runs:
        for _ in range(25):
            run.step()
    computed = runs[1]._region_targets.computed
    runs[1].update_regions(edited)  # paused between steps, as the window does
    assert runs[1]._region_targets.computed == computed == 2  # no target recomputed
    for run in runs:
        while not run.done:
            run.step()
    plain, changed = (run.current_image() for run in runs)
    difference = (plain - changed).abs().mean(1)[0]
    top_right = difference[: HEIGHT // 2 - 6, WIDTH // 2 + 16 :].mean()
    untouched = difference[:, : WIDTH // 2 - 8].mean()
    print(f"change after the edit: edited area {top_right:.4f}, elsewhere {untouched:.4f}")
    assert top_right > 0.05  # the next steps changed there...
    assert top_right > 2 * untouched  # ...far more than elsewhere (L-BFGS restarts: some)
    # The edited area took its new painting; the rest kept its own as well as without the
    # edit.
    styles = runs[0]._style_sources

    def distances(image, run):
        return [style_distance(run, image, core, styles[index]) for core, index in (
            (box(slice(0, HEIGHT // 2 - 6), slice(WIDTH // 2 + 16, None)), 0),
            (box(slice(None), slice(0, WIDTH // 2 - 8)), 0),
            (box(slice(HEIGHT // 2 + 6, None), slice(WIDTH // 2 + 16, None)), 1))]  # fmt: skip

    (edited_plain, left_plain, bottom_plain) = distances(plain, runs[0])
    (edited_now, left_now, bottom_now) = distances(changed, runs[1])
    (_, left_photo, bottom_photo) = distances(runs[0]._content, runs[0])
    print(f"to painting 1 in the edited area: {edited_plain:.3f} -> {edited_now:.3f}; "
          f"left {left_photo:.3f}, {left_plain:.3f} -> {left_now:.3f}; bottom right "
          f"{bottom_photo:.3f}, {bottom_plain:.3f} -> {bottom_now:.3f}")  # fmt: skip
    assert edited_now < 0.5 * edited_plain
    # The regions a union now shares with the edit are matched as a whole, so they move a
    # little too, but keep most of the way from the photo to their painting that they had
    # made without the edit (measured: 95 % and 103 %; a fixed fraction of the photo's
    # distance instead depended on the CPU's rounding: 0.21 here, under 0.2 elsewhere).
    def kept(photo, plain, now):
        return (photo - now) / (photo - plain)

    assert kept(left_photo, left_plain, left_now) > 0.8
    assert kept(bottom_photo, bottom_plain, bottom_now) > 0.8


def box(rows: slice, columns: slice) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), np.float32)
    mask[rows, columns] = 1
    return mask
