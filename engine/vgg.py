"""VGG feature extractor with named layers (relu4_2, not features.22).

Weights come in two flavours that differ only in how pixels are prepared:
- "torchvision": RGB in [0, 1], normalised by the ImageNet mean and std.
- "caffe": the Caffe-converted VGG used by neural-style: BGR, 0-255, mean subtracted.
Both use torchvision's key layout (`features.N.weight`, `features.N.bias`).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import torch
from torch import nn

ARCHITECTURES = ("vgg19", "vgg16")
PREPROCESSINGS = ("torchvision", "caffe")
POOLINGS = ("max", "avg", "avg_scaled")
PADDINGS = ("zeros", "replicate", "reflect")
WEIGHT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

# oneDNN's CPU convolutions prefer channels-last (see VGGFeatures.forward). A switch, so the
# tests can run the other kernels too (tests/conftest.py, IMPASTO_TEST_KERNELS).
CPU_CHANNELS_LAST = True

# Convolutions per block for each architecture (torchvision's configurations "E" and "D").
_BLOCKS = {"vgg19": (2, 2, 4, 4, 4), "vgg16": (2, 2, 3, 3, 3)}
_WIDTHS = (64, 128, 256, 512, 512)

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


class WeightsError(ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


def layer_names(arch: str) -> list[str]:
    """Names of the modules of `features`, in order: conv1_1, relu1_1, ..., pool5."""
    if arch not in _BLOCKS:
        raise ValueError(f"unknown model {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    names = []
    for block, convs in enumerate(_BLOCKS[arch], start=1):
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


@cache
def expected_shapes(arch: str) -> dict[str, tuple[int, ...]]:
    """The `features.*` keys and tensor shapes a state dict for `arch` must have."""
    shapes = {}  # cached: building the layers initialises 20 M parameters
    for index, module in enumerate(_torchvision_features(arch)):
        if isinstance(module, nn.Conv2d):
            shapes[f"features.{index}.weight"] = tuple(module.weight.shape)
            shapes[f"features.{index}.bias"] = tuple(module.bias.shape)
    return shapes


def validate_state_dict(state: object, arch: str, source: str | Path) -> dict[str, torch.Tensor]:
    """Return just the `features.*` tensors, or raise WeightsError naming `source`."""
    if not isinstance(state, dict):
        raise WeightsError(f"{source}: not a state dict (found {type(state).__name__})")
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    features = {}
    for key, shape in expected_shapes(arch).items():
        tensor = state.get(key)
        if tensor is None:
            raise WeightsError(f"{source}: missing key {key} for {arch}")
        if not isinstance(tensor, torch.Tensor):
            raise WeightsError(f"{source}: {key} is not a tensor")
        problem = _tensor_problem(tensor)
        if problem:
            raise WeightsError(f"{source}: {key} {problem}; refused")
        if tuple(tensor.shape) != shape:
            raise WeightsError(
                f"{source}: {key} has shape {tuple(tensor.shape)}, {arch} needs {shape}"
            )
        if not torch.isfinite(tensor).all():
            raise WeightsError(f"{source}: {key} contains NaN or infinite values")
        # A copy: a mapped file (mmap) is then let go, and only these tensors stay in memory.
        features[key] = tensor.detach().to(torch.float32, copy=True)
    return features


def _tensor_problem(tensor: torch.Tensor) -> str | None:
    """Why `tensor` cannot be a VGG weight: only dense real floats can (a sparse, quantised,
    meta, float8, complex, integer or boolean tensor would fail later, or run wrongly)."""
    if tensor.layout != torch.strided:
        return f"is a {str(tensor.layout).removeprefix('torch.')} tensor, not a dense one"
    if tensor.is_quantized:
        return "is a quantised tensor"
    if tensor.device.type == "meta":
        return "is a meta tensor (it holds no values)"
    if tensor.dtype not in WEIGHT_DTYPES:
        return f"holds {str(tensor.dtype).removeprefix('torch.')}, not 16-, 32- or 64-bit floats"
    return None


def _check_archive(path: Path | io.BytesIO, source: str | Path) -> None:
    """Refuse a zip whose entries are compressed before anything is read from it.

    torch.save stores entries uncompressed; a compressed one is not from torch.save and may
    be a small file that inflates to gigabytes. Uncompressed entries are memory-mapped
    (mmap=True below): only the tensors validate_state_dict keeps, of the expected shapes,
    are ever read.
    """
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise WeightsError(
                    f"{source}: refused: {info.filename} is compressed (it would inflate to "
                    f"{info.file_size} bytes); torch.save never writes such files"
                )


def read_state_dict(path: str | Path, arch: str) -> dict[str, torch.Tensor]:
    """Load a weights file safely (no pickle code runs) and validate it for `arch`."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    # The zip format (torch >= 1.6) is mapped, not read; older files have no zip and
    # cannot be mapped (their storages are read as stored, uncompressed).
    return _load_checked(path, arch, path, mmap=True)


def state_dict_from_bytes(data: bytes, arch: str, source: str) -> dict[str, torch.Tensor]:
    """read_state_dict for a file's bytes that came from elsewhere (a Ray worker gets the
    weights through the object store, not a shared disk): the same checks, no file."""
    return _load_checked(io.BytesIO(data), arch, source, mmap=False)


def _load_checked(
    file: Path | io.BytesIO, arch: str, source: str | Path, mmap: bool
) -> dict[str, torch.Tensor]:
    try:
        is_zip = zipfile.is_zipfile(file)
        if isinstance(file, io.BytesIO):
            file.seek(0)  # is_zipfile read from it
        if is_zip:
            _check_archive(file, source)
            if isinstance(file, io.BytesIO):
                file.seek(0)
        state = torch.load(file, map_location="cpu", weights_only=True, mmap=mmap and is_zip)
    except WeightsError:
        raise
    except pickle.UnpicklingError as error:
        # weights_only refuses any global it does not know: that is code trying to run.
        if "global" in str(error).lower():
            raise WeightsError(
                f"{source}: refused: the file holds code or objects other than plain tensors"
            ) from error
        raise WeightsError(f"{source}: not a PyTorch weights file, or it is damaged") from error
    except Exception as error:  # torch raises many types for corrupt or foreign files
        raise WeightsError(f"{source}: not a PyTorch weights file, or it is damaged") from error
    return validate_state_dict(state, arch, source)


def random_state_dict(arch: str = "vgg19", seed: int = 0) -> dict[str, torch.Tensor]:
    """A randomly initialised state dict of the real architecture (for tests and demos)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        features = _torchvision_features(arch)
        # torchvision's own VGG initialisation: Kaiming normal (fan_out), zero bias.
        for module in features:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
    return {f"features.{k}": v for k, v in features.state_dict().items()}


class VGGFeatures(nn.Module):
    """Frozen VGG cut after the deepest requested layer; returns {layer name: activation}.

    Input: RGB images in [0, 1], shape (N, 3, H, W). Preprocessing happens inside.
    """

    def __init__(
        self,
        state_dict: dict[str, torch.Tensor],
        layers: Iterable[str],
        arch: str = "vgg19",
        preprocessing: str = "torchvision",
        pooling: str = "max",
        padding: str = "zeros",
    ):
        super().__init__()
        if preprocessing not in PREPROCESSINGS:
            raise ValueError(f"unknown preprocessing {preprocessing!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose {', '.join(POOLINGS)}")
        if padding not in PADDINGS:
            raise ValueError(f"unknown padding {padding!r}; choose {', '.join(PADDINGS)}")
        names = layer_names(arch)
        self.layers = tuple(dict.fromkeys(layers))
        unknown = [name for name in self.layers if name not in names]
        if unknown:
            raise ValueError(f"unknown layer(s) {', '.join(unknown)} for {arch}")
        depth = max(names.index(name) for name in self.layers) + 1

        # Built on the meta device (no memory, no random init), then given the caller's
        # tensors themselves (assign=True): the weights are not copied, and layers below the
        # deepest one used are never made. Saves ~80 MB and the init time per run.
        with torch.device("meta"):
            features = _torchvision_features(arch)[:depth]
        wanted = {f"{i}.{kind}" for i, m in enumerate(features) if isinstance(m, nn.Conv2d)
                  for kind in ("weight", "bias")}  # fmt: skip
        features.load_state_dict(
            {k.removeprefix("features."): v for k, v in state_dict.items()
             if k.removeprefix("features.") in wanted},
            assign=True,
        )  # fmt: skip
        modules = []
        for name, module in zip(names[:depth], features[:depth], strict=True):
            if isinstance(module, nn.ReLU):
                # In place (as neural-style does; 5 % faster a step, measured) unless the
                # convolution output it would overwrite is a layer someone reads.
                module = nn.ReLU(inplace=modules[-1][0] not in self.layers)
            elif isinstance(module, nn.MaxPool2d) and pooling != "max":
                module = _AvgPool(scale=2.0 if pooling == "avg_scaled" else 1.0)
            elif isinstance(module, nn.Conv2d) and name.startswith("conv1_"):
                # Zero padding reads as a dark frame, which may make the style loss paint dark
                # borders; other paddings in the first block remove the frame. Measured on the
                # trained VGG16 the borders came out the same (bench/padding_trained.py).
                module.padding_mode = padding
            modules.append((name, module))
        self.net = nn.Sequential(OrderedDict(modules))
        self.net.eval().requires_grad_(False)
        self.arch, self.preprocessing, self.pooling = arch, preprocessing, pooling
        self._channels_last = False

        if preprocessing == "torchvision":
            mean, scale = torch.tensor(_IMAGENET_MEAN), 1 / torch.tensor(_IMAGENET_STD)
        else:
            # Caffe: x * 255 in BGR order, minus the BGR mean. Done as RGB here, then flipped.
            mean, scale = torch.tensor(_CAFFE_MEAN_BGR[::-1]) / 255, torch.full((3,), 255.0)
        self.register_buffer("mean", mean.view(1, 3, 1, 1))
        self.register_buffer("scale", scale.view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (image - self.mean) * self.scale
        if self.preprocessing == "caffe":
            x = x.flip(1)
        if x.device.type == "cpu" and CPU_CHANNELS_LAST:
            # oneDNN's CPU convolutions work in channels-last layout; fed NCHW tensors they
            # reorder every activation, forward and backward (measured: 15 % of a 512 px
            # step). GPUs keep the default layout (not measured there).
            if not self._channels_last:
                self.net.to(memory_format=torch.channels_last)
                self._channels_last = True
            x = x.contiguous(memory_format=torch.channels_last)
        wanted, found = set(self.layers), {}
        for name, module in self.net.named_children():
            x = module(x)
            if name in wanted:
                found[name] = x
                if len(found) == len(wanted):
                    break
        return found

    def train(self, mode: bool = True) -> VGGFeatures:
        # The network stays in eval mode whatever the caller asks.
        return super().train(False)


class _AvgPool(nn.AvgPool2d):
    """2×2 average pooling, optionally scaled. Averaging roughly halves activations compared
    with max pooling, which weakens deeper layers; a factor of 2 (crowsonkb's
    style-transfer-pytorch) keeps their magnitude, so the same weights still apply."""

    def __init__(self, scale: float = 1.0):
        super().__init__(kernel_size=2, stride=2)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out * self.scale if self.scale != 1.0 else out


def _torchvision_features(arch: str) -> nn.Sequential:
    if arch not in _BLOCKS:
        raise ValueError(f"unknown model {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    # The same modules, in the same order, as torchvision's vgg19/vgg16 `.features`, so their
    # state dicts load as they are (tests/engine/test_vgg.py checks this against torchvision).
    # Built here rather than imported: the 400 MB classifier is never used, and a CPU-only
    # bundle need not ship torchvision at all.
    layers: list[nn.Module] = []
    channels = 3
    for block, convs in enumerate(_BLOCKS[arch]):
        width = _WIDTHS[block]
        for _ in range(convs):
            layers += [nn.Conv2d(channels, width, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
