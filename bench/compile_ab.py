"""A/B of torch.compile on the VGG features (issue 6's lever): 512 px L-BFGS, eager and
compiled interleaved in one process, timed as bench/precision.py times steps. A script,
not a test:

    .venv/bin/python bench/compile_ab.py [SIZE]
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_weights import CONTENT, STYLE, shared_network  # noqa: E402
from bench.precision import time_steps  # noqa: E402
from engine.images import load_image  # noqa: E402
from engine.settings import RunSettings  # noqa: E402


def main() -> None:
    network = shared_network()
    inputs = (load_image(CONTENT), [load_image(STYLE)])
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    settings = RunSettings(size=size, steps=8, content_weight=1.0, style_weight=100.0,
                           tv_weight=0.0, device="cpu")  # fmt: skip
    for compiled in (False, True, False, True):
        row = time_steps(inputs, settings, network, torch.device("cpu"), compiled=compiled)
        print("compiled" if compiled else "eager   ", f"first step {row['first_step_s']:.2f} s,",
              f"median of the rest {row['s_per_step']:.3f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
