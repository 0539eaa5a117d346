"""Each preset on the trained VGG16: a montage (content | style | result per preset) and
the figures behind the defaults in bench/README.md ("Defaults on the trained VGG16").

    .venv/bin/python bench/presets_trained.py                    # tubingen × starry_night
    .venv/bin/python bench/presets_trained.py --pairs tubingen:starry_night,golden_gate:the_scream

Runs the engine in this process, one preset after another, at the window's sizes (384 px;
Fast preview at its own 256 px). Writes bench/results/presets-trained.png and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from engine.device import configure_threads  # noqa: E402
from engine.presets import apply_preset, preset_names  # noqa: E402
from engine.run import Network, StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402
from engine.vgg import read_state_dict  # noqa: E402
from tests.trained_vgg import trained_vgg16_path  # noqa: E402

IMAGES = HERE.parents[1] / "shared" / "images"
RESULTS = HERE / "results"
TILE = 256


def run_preset(network, content, style, preset: str, size: int) -> tuple[Image.Image, dict]:
    settings = apply_preset(RunSettings(model="vgg16", size=size, device="cpu"), preset)
    started = time.perf_counter()
    run = StyleTransfer(content, [style], settings, network)
    report = None
    while not run.done:
        report = run.step()
    seconds = time.perf_counter() - started
    figures = {"preset": preset, "sizes": list(settings.sizes), "steps": report.iteration,
               "seconds": round(seconds, 1), "losses": report.losses}  # fmt: skip
    return run.result(), figures


def tile(image: Image.Image, label: str) -> Image.Image:
    image = image.copy()
    image.thumbnail((TILE, TILE))
    canvas = Image.new("RGB", (TILE, TILE + 18), "white")
    canvas.paste(image, ((TILE - image.width) // 2, 18))
    ImageDraw.Draw(canvas).text((4, 3), label, fill="black")
    return canvas


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pairs", default="tubingen:starry_night")
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--presets", default=",".join(preset_names()))
    args = p.parse_args()
    threads = configure_threads(leave_one_for_gui=False)
    network = Network(read_state_dict(trained_vgg16_path(), "vgg16"), "vgg16", "caffe")
    rows, figures = [], []
    for pair in args.pairs.split(","):
        content_name, style_name = pair.split(":")
        content = Image.open(IMAGES / f"{content_name}.jpg").convert("RGB")
        style = Image.open(IMAGES / f"{style_name}.jpg").convert("RGB")
        row = [tile(content, content_name), tile(style, style_name)]
        for preset in args.presets.split(","):
            result, numbers = run_preset(network, content, style, preset, args.size)
            numbers["pair"] = pair
            figures.append(numbers)
            print(json.dumps(numbers), flush=True)
            row.append(tile(result, f"{preset}: {numbers['seconds']:.0f} s"))
        rows.append(row)
    montage = Image.new("RGB", (TILE * len(rows[0]), (TILE + 18) * len(rows)), "white")
    for y, row in enumerate(rows):
        for x, part in enumerate(row):
            montage.paste(part, (x * TILE, y * (TILE + 18)))
    RESULTS.mkdir(exist_ok=True)
    montage.save(RESULTS / "presets-trained.png")
    meta = {"threads": threads, "torch": torch.__version__, "figures": figures}
    (RESULTS / "presets-trained.json").write_text(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
