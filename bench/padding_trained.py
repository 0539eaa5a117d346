"""Does padding change a picture's borders on the trained VGG16? A script, not a test.

    .venv/bin/python bench/padding_trained.py [--size 256 --steps 80]

For each padding, tubingen × starry_night at the default settings: the mean brightness
(0-255) of a 4 px border strip minus the interior's, beside the photo's own difference.
A padding that paints dark borders shows a more negative difference than the photo.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.run import Network, StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402
from engine.vgg import PADDINGS, read_state_dict  # noqa: E402
from tests.trained_vgg import trained_vgg16_path  # noqa: E402

IMAGES = ROOT.parent / "shared" / "images"
STRIP = 4


def border_minus_interior(image: Image.Image) -> float:
    grey = np.asarray(image.convert("L"), dtype=float)
    inner = np.ones_like(grey, dtype=bool)
    inner[:STRIP], inner[-STRIP:], inner[:, :STRIP], inner[:, -STRIP:] = False, False, False, False
    return float(grey[~inner].mean() - grey[inner].mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=80)
    args = parser.parse_args()
    network = Network(read_state_dict(trained_vgg16_path(), "vgg16"), "vgg16", "caffe")
    content = Image.open(IMAGES / "tubingen.jpg").convert("RGB")
    style = Image.open(IMAGES / "starry_night.jpg").convert("RGB")
    for padding in PADDINGS:
        settings = RunSettings(model="vgg16", size=args.size, steps=args.steps, padding=padding)
        run = StyleTransfer(content, [style], settings, network)
        while not run.done:
            run.step()
        result = run.result()
        photo = content.resize(result.size, Image.Resampling.LANCZOS)
        print(f"{padding:9} border − interior {border_minus_interior(result):6.1f}  "
              f"(photo {border_minus_interior(photo):6.1f})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
