"""A/B of torch.compile on the VGG features (issue 6's lever): 512 px L-BFGS, eager and
compiled interleaved in one process. A script, not a test:

    .venv/bin/python bench/compile_ab.py [SIZE]
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench.make_weights import make_weights  # noqa: E402
from engine.images import load_image  # noqa: E402
from engine.run import Network, StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402
from engine.vgg import read_state_dict  # noqa: E402

WEIGHTS = ROOT / "bench" / "results" / "work" / "vgg19_random_seed0.pth"
SHARED = ROOT.parent / "shared" / "images"


def timed(inputs, settings: RunSettings, network: Network, compiled: bool) -> list[float]:
    run = StyleTransfer(*inputs, settings, network, torch.device("cpu"))
    if compiled:
        run.net = torch.compile(run.net)
    times = []
    while not run.done:
        started = time.perf_counter()
        run.step()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    if not WEIGHTS.exists():
        make_weights(WEIGHTS)
    network = Network(read_state_dict(WEIGHTS, "vgg19"), "vgg19", "caffe")
    inputs = (load_image(SHARED / "tubingen.jpg"), [load_image(SHARED / "starry_night.jpg")])
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    settings = RunSettings(size=size, steps=8, content_weight=1.0, style_weight=100.0,
                           tv_weight=0.0, device="cpu")  # fmt: skip
    for compiled in (False, True, False, True):
        times = timed(inputs, settings, network, compiled)
        print("compiled" if compiled else "eager   ", f"first step {times[0]:.2f} s,",
              f"median of the rest {statistics.median(times[2:]):.3f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
