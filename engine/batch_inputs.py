"""A batch's inputs and weights, read and checked before it starts, as bytes: they travel
to Ray workers through the object store (no shared file system), and each worker makes
its network from the weights' bytes with the same checks as a file (SHA-256, then
torch.load(weights_only=True))."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from engine import weights_store
from engine.batch_spec import BatchSpec
from engine.images import ImageError, image_size
from engine.model_choice import installed_model
from engine.run import Network
from engine.targets import InputTooSmall, check_sizes
from engine.vgg import WeightsError, read_state_dict, state_dict_from_bytes


class BatchError(ValueError):
    """A batch that cannot start (an input, the weights, the output folder); one line."""


@dataclass(frozen=True)
class WeightsInfo:
    """Which weights a run needs; the file's bytes travel beside it (once per batch)."""

    arch: str
    preprocessing: str
    sha256: str
    source: str  # the file, for messages


def read_inputs(spec: BatchSpec) -> dict[str, bytes]:
    """Every input file's bytes, by label, after checking each is an image and each run's
    images are large enough for its sizes: a bad input stops the batch before it starts,
    not on a worker an hour in. Pixels are decoded where the run runs."""
    sizes = {}
    for label, path in spec.inputs.items():
        try:
            sizes[label] = image_size(path)
        except ImageError as error:
            raise BatchError(str(error)) from None
    for job in spec.jobs:
        try:  # the sizes alone decide (run.py's own check, on stand-in images)
            check_sizes(Image.new("1", sizes[job.content]),
                         [Image.new("1", sizes[s]) for s in job.styles], job.settings)  # fmt: skip
        except InputTooSmall as error:
            raise BatchError(f"{job.name}: {error.naming(job.content, job.styles)}") from None
    return {label: path.read_bytes() for label, path in spec.inputs.items()}


def read_weights(spec: BatchSpec) -> dict[str, tuple[WeightsInfo, bytes]]:
    """The weights file's bytes for each network the runs use, checked here (the spec's
    weights file, or the installed catalogue model, whose SHA-256 is verified)."""
    weights = {}
    for arch in sorted({job.settings.model for job in spec.jobs}):
        if spec.weights is not None:
            read_state_dict(spec.weights, arch)  # the file is usable for this network
            path, preprocessing = spec.weights, spec.preprocessing or "torchvision"
        else:
            name = installed_model(arch, spec.preprocessing)
            installed = weights_store.verify(name)  # hash, size and tensors
            path, preprocessing = installed.path, installed.spec.preprocessing
        data = Path(path).read_bytes()
        info = WeightsInfo(arch, preprocessing, hashlib.sha256(data).hexdigest(), str(path))
        weights[arch] = (info, data)
    return weights


_networks: dict[str, Network] = {}  # the last network made in this process, by SHA-256


def network_from_bytes(info: WeightsInfo, data: bytes) -> Network:
    """The network from the weights' bytes, checked again where it runs (torch.load with
    weights_only=True, after the SHA-256): kept for the next run in the same process."""
    if info.sha256 not in _networks:
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise WeightsError(f"{info.source}: the weights changed on the way (SHA-256)")
        state = state_dict_from_bytes(data, info.arch, info.source)
        _networks.clear()  # one network at a time: VGG19 is 80 MB
        _networks[info.sha256] = Network(state, info.arch, info.preprocessing)
    return _networks[info.sha256]
