"""What each quality option (issue 8) does, measured: a script, not a test.

    .venv/bin/python bench/quality_options.py            # writes bench/results/quality.json

1. Averaged iterate: mean frame-to-frame change of the shown image (8-bit levels per pixel)
   over the second half of an Adam run, off and on, and the common loss at the end.
2. Padding: energy of the image gradient in an 8 px border strip divided by the interior's,
   for zero, replicate and reflect padding (1.0 means the border looks like the rest).
3. Presets: seconds from building the run to the first shown image at or below a common
   loss threshold (the worst final loss of the three, so all reach it), at 256 px.

All on the benchmark's shared random VGG19 with Caffe preprocessing and the common
evaluator (bench/common_eval.py), content weight 1, style weight 100 (as run_bench.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common_eval import CommonEvaluator  # noqa: E402
from bench.make_weights import CONTENT, STYLE, WEIGHTS, shared_network  # noqa: E402
from engine.images import load_image, save_image, to_image  # noqa: E402
from engine.presets import apply_preset, preset_names  # noqa: E402
from engine.run import StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=192, help="size for figures 1 and 2")
    parser.add_argument("--steps", type=int, default=80, help="steps for figures 1 and 2")
    parser.add_argument("--preset-size", type=int, default=256)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/quality.json")
    args = parser.parse_args()

    torch.manual_seed(0)
    network = shared_network()
    inputs = (load_image(CONTENT), [load_image(STYLE)])
    evaluate = CommonEvaluator(WEIGHTS, CONTENT, STYLE, content_weight=1.0, style_weight=100.0)
    base = RunSettings(content_weight=1.0, style_weight=100.0, tv_weight=0.0, device="cpu")

    results = {
        "averaging": averaging(inputs, network, evaluate, base, args),
        "padding": padding(inputs, network, base, args),
        "presets": presets(inputs, network, evaluate, base, args),
        "machine": f"{torch.get_num_threads()} torch threads, torch {torch.__version__}",
    }
    args.output.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def averaging(inputs, network, evaluate, base, args) -> dict:
    out = {}
    for average in (False, True):
        settings = base.replace(size=args.size, steps=args.steps, optimizer="adam",
                                average=average)  # fmt: skip
        run = StyleTransfer(*inputs, settings, network)
        previous, changes = None, []
        while not run.done:
            run.step()
            shown = run.current_image()
            if previous is not None and run.iteration > args.steps // 2:
                changes.append((shown - previous).abs().mean().item() * 255)
            previous = shown
        out["on" if average else "off"] = {
            "frame_change_levels": round(sum(changes) / len(changes), 3),
            "final_common_loss": round(common_loss(evaluate, run), 4),
        }
    return out


def padding(inputs, network, base, args) -> dict:
    out = {"photo itself": round(border_ratio(load_tensor(inputs[0], args.size)), 3)}
    for mode in ("zeros", "replicate", "reflect"):
        run = StyleTransfer(*inputs, base.replace(size=args.size, steps=args.steps,
                                                  padding=mode), network)  # fmt: skip
        while not run.done:
            run.step()
        out[mode] = round(border_ratio(run.current_image().cpu()), 3)
    return out


def presets(inputs, network, evaluate, base, args) -> dict:
    curves = {}
    for name in preset_names():
        settings = apply_preset(base.replace(size=args.preset_size), name)
        started = time.perf_counter()
        run = StyleTransfer(*inputs, settings, network)
        paused, curve = 0.0, []
        while not run.done:
            run.step()
            if run.iteration % args.eval_every == 0 or run.done:
                clock = time.perf_counter() - started - paused
                tick = time.perf_counter()
                curve.append((round(clock, 2), run.iteration, common_loss(evaluate, run)))
                paused += time.perf_counter() - tick  # evaluation is not the preset's time
        curves[name] = curve
    threshold = max(curve[-1][2] for curve in curves.values())
    out = {"threshold": round(threshold, 4), "size": args.preset_size}
    for name, curve in curves.items():
        reached = next(point for point in curve if point[2] <= threshold)
        out[name] = {"seconds_to_threshold": reached[0], "steps_to_threshold": reached[1],
                     "total_steps": curve[-1][1], "total_seconds": curve[-1][0],
                     "final_common_loss": round(curve[-1][2], 4)}  # fmt: skip
    return out


def common_loss(evaluate: CommonEvaluator, run: StyleTransfer) -> float:
    """The evaluator's loss on the shown image, upsampled to the final size if smaller."""
    image = run.current_image().cpu()
    final = run.settings.sizes[-1]
    if max(image.shape[-2:]) < final:
        scale = final / max(image.shape[-2:])
        image = F.interpolate(image, scale_factor=scale, mode="bicubic").clamp(0, 1)
    with tempfile.TemporaryDirectory() as folder:
        path = save_image(to_image(image), Path(folder) / "shown.png")
        return evaluate(path)["total"]


def border_ratio(image: torch.Tensor, strip: int = 8) -> float:
    """Gradient energy in the border strip divided by the interior's."""
    dy = (image[..., 1:, :-1] - image[..., :-1, :-1]).pow(2)
    dx = (image[..., :-1, 1:] - image[..., :-1, :-1]).pow(2)
    energy = (dx + dy).sum(1)[0]
    mask = torch.zeros_like(energy, dtype=torch.bool)
    mask[:strip], mask[-strip:], mask[:, :strip], mask[:, -strip:] = True, True, True, True
    return (energy[mask].mean() / energy[~mask].mean()).item()


def load_tensor(image, size: int) -> torch.Tensor:
    from engine.images import resize_longest, to_tensor

    return to_tensor(resize_longest(image, size))


if __name__ == "__main__":
    main()
