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
from engine.vgg import random_state_dict  # noqa: E402


def make_weights(path: Path, seed: int = 0) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(random_state_dict("vgg19", seed), path)
    return path


if __name__ == "__main__":
    print(make_weights(Path(sys.argv[1])))
