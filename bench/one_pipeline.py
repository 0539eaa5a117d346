"""What a plain run pays for going through the regions' losses (issue 27): a run with no
regions against the same run with one region that covers the whole picture and takes every
painting, stepped in turn (one step each, so a busy machine slows both alike), on the
trained VGG16. A script, not a test.

    .venv/bin/python bench/one_pipeline.py                 # 384 px, 12 steps each
    .venv/bin/python bench/one_pipeline.py --size 256 --steps 6

Prints the median seconds per step of each, their ratio, and how far the two pictures are
apart after the steps (mean 8-bit levels): the same objective, so rounding apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from judge import IMAGES, default_weights  # noqa: E402

from engine.images import load_image  # noqa: E402
from engine.regions import Region  # noqa: E402
from engine.run import Network, StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402
from engine.vgg import read_state_dict  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--steps", type=int, default=12)
    args = p.parse_args()
    network = Network(read_state_dict(default_weights(), "vgg16"), "vgg16", "caffe")
    content = load_image(IMAGES / "tubingen.jpg")
    styles = [load_image(IMAGES / "starry_night.jpg"), load_image(IMAGES / "the_scream.jpg")]
    settings = RunSettings(model="vgg16", size=args.size, steps=args.steps + 2, settle=0,
                           device="cpu", style_blend=(0.7, 0.3))  # fmt: skip
    everywhere = Region(np.ones((1, 1), np.float32), styles=(0, 1))
    runs = {"no regions": StyleTransfer(content, styles, settings, network),
            "one full region": StyleTransfer(content, styles, settings, network,
                                             regions=(everywhere,))}  # fmt: skip
    times = {name: [] for name in runs}
    for _ in range(args.steps + 2):
        for name, run in runs.items():
            started = time.perf_counter()
            run.step()
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(t[2:]) for name, t in times.items()}
    plain, region = (run.current_image() for run in runs.values())
    apart = float((plain - region).abs().mean()) * 255
    print(f"{args.size} px, {args.steps} steps: " + ", ".join(
        f"{name} {seconds:.3f} s/step" for name, seconds in medians.items()) +
        f"; ratio {medians['one full region'] / medians['no regions']:.3f}; pictures "
        f"{apart:.3f} levels apart")  # fmt: skip


if __name__ == "__main__":
    main()
