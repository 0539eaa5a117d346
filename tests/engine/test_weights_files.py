"""Weights files with tensors that are not dense real floats, or that inflate far beyond
their size, are refused with one line before much is read (issue 17)."""

from __future__ import annotations

import resource
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from engine.vgg import WeightsError, expected_shapes, random_state_dict, read_state_dict

ROOT = Path(__file__).resolve().parents[2]
KEY = "features.0.weight"  # the first convolution: (64, 3, 3, 3)


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    return random_state_dict("vgg16", seed=1)


def unusual(tensor: torch.Tensor) -> dict[str, torch.Tensor]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantisation is deprecated; that is the point
        return {
            "sparse": lambda: tensor.to_sparse(),
            "quantised": lambda: torch.quantize_per_tensor(tensor, 0.1, 0, torch.qint8),
            "meta": lambda: tensor.to("meta"),
            "float8": lambda: tensor.to(torch.float8_e4m3fn),
            "complex": lambda: tensor.to(torch.complex64),
            "int": lambda: tensor.to(torch.int32),
            "bool": lambda: tensor > 0,
        }


@pytest.mark.parametrize(
    ("kind", "message"),
    [("sparse", "sparse_coo tensor, not a dense one"), ("quantised", "quantised"),
     ("meta", "meta tensor"), ("float8", "holds float8_e4m3fn"), ("complex", "holds complex64"),
     ("int", "holds int32"), ("bool", "holds bool")],
)  # fmt: skip
def test_unusual_tensors_are_refused_with_a_message(tmp_path, state, kind, message):
    path = tmp_path / f"{kind}.pth"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save({**state, KEY: unusual(state[KEY])[kind]()}, path)
    with pytest.raises(WeightsError) as raised:
        read_state_dict(path, "vgg16")
    text = str(raised.value)
    assert message in text and KEY in text and "\n" not in text


def test_half_and_double_weights_are_still_accepted(tmp_path, state):
    for dtype in (torch.float16, torch.bfloat16, torch.float64):
        path = tmp_path / "w.pth"
        torch.save({k: v.to(dtype) for k, v in state.items()}, path)
        loaded = read_state_dict(path, "vgg16")
        assert loaded[KEY].dtype == torch.float32 and set(loaded) == set(expected_shapes("vgg16"))


def save_elsewhere(path, extra_elements: int, state_of: str = "") -> None:
    """torch.save in a child process, so this one's peak memory does not include the data."""
    code = (
        "import sys, torch; from engine.vgg import random_state_dict as r; "
        f"s = r('vgg16', seed=1) if {bool(state_of)!r} else {{{KEY!r}: torch.zeros(64, 3, 3, 3)}}; "
        f"s['extra'] = torch.zeros({extra_elements}); torch.save(s, sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)


def test_a_small_file_that_inflates_to_gigabytes_is_refused_before_it_is_read(tmp_path):
    plain, bomb = tmp_path / "plain.pth", tmp_path / "bomb.pth"
    save_elsewhere(plain, 2**28)  # 1 GiB of zeros
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    plain.unlink()
    assert bomb.stat().st_size < 10 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(WeightsError, match="is compressed"):
        read_state_dict(bomb, "vgg16")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 * 1024  # far less than the 1 GiB it would inflate to


def test_tensors_beside_the_features_are_mapped_not_read(tmp_path):
    # A classifier-sized extra tensor (512 MiB) costs no memory: only features are copied.
    path = tmp_path / "with_classifier.pth"
    save_elsewhere(path, 2**27, state_of="vgg16")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loaded = read_state_dict(path, "vgg16")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert "extra" not in loaded and set(loaded) == set(expected_shapes("vgg16"))
    assert grown_kib < 300 * 1024  # the features (59 MB) and slack, not 512 MiB more
