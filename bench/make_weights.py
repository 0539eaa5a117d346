"""Save one randomly initialised VGG19 in the layout every tool reads.

`features.N.weight/bias` (torchvision's layout, which neural-style's Caffe-converted files
also use). The file name contains "vgg19" because neural-style picks the architecture from
the name; neural-style runs with -disable_check so no classifier tensors are needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine.run import Network  # noqa: E402
from engine.vgg import random_state_dict, read_state_dict  # noqa: E402

WEIGHTS = Path(__file__).resolve().parent / "results" / "work" / "vgg19_random_seed0.pth"
SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
CONTENT, STYLE = SHARED_IMAGES / "tubingen.jpg", SHARED_IMAGES / "starry_night.jpg"


def make_weights(path: Path, seed: int = 0) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(random_state_dict("vgg19", seed), path)
    return path


def shared_network() -> Network:
    """The benchmark's random VGG19 (saved on first use), as Impasto's engine reads it."""
    return Network(read_state_dict(make_weights(WEIGHTS), "vgg19"), "vgg19", "caffe")


if __name__ == "__main__":
    print(make_weights(Path(sys.argv[1])))
