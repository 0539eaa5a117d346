"""What one step costs on this machine, and what the free levers change: torch threads and
the canvas's preview (issue 14's "cheaper steps where they are free").

    .venv/bin/python bench/step_cost.py --size 384 --threads 1,2 --steps 12

Trained VGG16, the engine's defaults at --size, tubingen × starry_night. Each thread count
runs in its own process (torch fixes its pool at start-up); the first 2 steps are warm-up and
not counted. The preview is the window's: the current picture downscaled to the canvas
(at most --preview px) as 8-bit RGB, once per step. Prints s/step (median) per thread
count, and the preview's ms, and the machine's load before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IMAGES = ROOT.parent / "shared" / "images"


def child(args) -> None:
    import torch

    torch.set_num_threads(args.child)
    sys.path.insert(0, str(ROOT))
    from engine.images import load_image
    from engine.run import Network, StyleTransfer
    from engine.settings import RunSettings, with_size
    from engine.vgg import read_state_dict
    from tests.trained_vgg import trained_vgg16_path

    weights = trained_vgg16_path()
    settings = with_size(RunSettings(model="vgg16", device="cpu"), args.size).replace(
        settle=0.0, steps=args.steps
    )
    content, style = load_image(IMAGES / "tubingen.jpg"), load_image(IMAGES / "starry_night.jpg")
    network = Network(read_state_dict(weights, "vgg16"), "vgg16", "caffe")
    run = StyleTransfer(content, [style], settings, network, torch.device("cpu"))
    steps, previews = [], []
    while not run.done:
        started = time.perf_counter()
        run.step()
        stepped = time.perf_counter()
        run.preview(args.preview)
        steps.append(stepped - started)
        previews.append(time.perf_counter() - stepped)
    print(json.dumps({"threads": args.child, "s_per_step": statistics.median(steps[2:]),
                      "preview_ms": 1000 * statistics.median(previews[2:])}))  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--preview", type=int, default=800, help="the canvas's longest side")
    args = p.parse_args()
    if args.child:
        child(args)
        return
    print("load before", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for threads in args.threads.split(","):
        command = [sys.executable, __file__, "--child", threads, "--size", str(args.size),
                   "--steps", str(args.steps), "--preview", str(args.preview)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        print(done.stdout.strip().splitlines()[-1], flush=True)
    print("load after", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
