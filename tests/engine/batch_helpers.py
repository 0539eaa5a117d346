"""Tiny batches for the batch tests (tests/engine/test_batch.py, test_cluster.py)."""

import json
from pathlib import Path

from PIL import Image

from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.engine.helpers import painting, photo

# 32 px, 3 steps: a run takes about a second on one CPU thread.
TINY = {"size": 32, "steps": 3, "style_weight": RANDOM_NET_STYLE_WEIGHT}


def write_inputs(folder: Path) -> None:
    photo().save(folder / "photo.png")
    painting().save(folder / "a.png")
    painting(seed=7, width=48).save(folder / "b.png")


def write_truncated_image(path: Path) -> None:
    """A PNG whose header is whole (so the batch accepts it) but whose pixels are cut off:
    it fails where the run decodes it."""
    painting().save(path)
    path.write_bytes(path.read_bytes()[:200])


def write_spec(folder: Path, weights: str, **fields) -> Path:
    """A 2×2 grid (two paintings × two seeds, noise start) unless `fields` say otherwise."""
    spec = {"content": "photo.png", "styles": ["a.png"], "weights": weights, "init": "noise",
            "grid": {"styles": ["a.png", "b.png"], "seed": [0, 1]}, **TINY, **fields}  # fmt: skip
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def files_in(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def index_without_timing(folder: Path) -> dict:
    """index.json less what depends on the machine and the moment (seconds, device name)."""
    data = json.loads((folder / "index.json").read_text())
    for run in data["runs"]:
        run.pop("seconds")
        run.pop("device")
    return data


def assert_nothing_partial(folder: Path) -> None:
    """No temporary file is left, and every image there opens whole."""
    names = [path.name for path in folder.iterdir()]
    assert not [name for name in names if name.startswith(".") or name.endswith(".tmp")], names
    for path in folder.glob("*.png"):
        with Image.open(path) as image:
            image.load()
    json.loads((folder / "index.json").read_text())
