"""Run settings: one frozen dataclass, saved beside outputs and in presets as JSON.

Defaults follow the published tools, for ImageNet-trained VGG19 (never for a random net):
- layers: Gatys et al. 2016 and neural-style: content relu4_2; style relu1_1 ... relu5_1,
  equal layer weights;
- loss weights: content 1, style 5, TV 1, measured on a trained VGG16 (bench/README.md,
  "Defaults"). The losses are relative errors (engine/losses.py), so these weights mean
  the same for every model and preprocessing; none has weights of its own;
- optimizer: L-BFGS, as neural-style and the paper; one step is one L-BFGS iteration,
  learning rate 1, history 100. Adam: learning rate 0.02 on pixels in [0, 1] (crowsonkb's
  style-transfer-pytorch; neural-style's 10 on 0-255 pixels is the same order);
- 512 px longest side, initialised from the content photo so a picture shows at once.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from engine.vgg import ARCHITECTURES, PADDINGS, POOLINGS, layer_names

OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("fp32", "mixed")
DEFAULT_LEARNING_RATES = {"lbfgs": 1.0, "adam": 0.02}
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_STATISTICS = ("gram", "moments", "gram+moments")
# A falling profile (256:64:16:4:1, normalised to sum to the layer count): the shallow
# layers carry colour and brush texture, the deep ones large shapes that can swamp a photo.
FALLING_LAYER_WEIGHTS = tuple(round(5 * w / 341, 6) for w in (256, 64, 16, 4, 1))
SETTINGS_VERSION = 1


@dataclass(frozen=True)
class RunSettings:
    model: str = "vgg19"
    pooling: str = "max"
    content_layers: tuple[str, ...] = ("relu4_2",)
    style_layers: tuple[str, ...] = STYLE_LAYERS
    style_layer_weights: tuple[float, ...] = (1.0,) * len(STYLE_LAYERS)
    content_weight: float = 1.0
    style_weight: float = 5.0
    tv_weight: float = 1.0
    style_blend: tuple[float, ...] = ()  # one weight per style image; empty means equal
    style_scale: float = 1.0  # style image's longest side relative to the output's
    size: int = 512  # longest side of the output, px
    scales: tuple[int, ...] = ()  # coarse-to-fine sizes, e.g. (256, 512); empty: just `size`
    steps: int = 300  # optimisation steps at each scale
    optimizer: str = "lbfgs"
    learning_rate: float | None = None  # None: the optimizer's default
    init: str = "content"  # "content", "noise" or a path to an image
    seed: int = 0
    preserve_colors: bool = False  # luminance-only transfer: keep the photo's colours
    device: str = "auto"
    snapshot_every: int = field(default=0, metadata={"gui": True})  # 0: no snapshots
    # Beyond the classic method (crowsonkb/style-transfer-pytorch; Gatys et al. 2017):
    padding: str = "zeros"  # first-block convolutions: zeros, replicate or reflect
    style_statistic: str = "gram"  # gram, moments (Wasserstein-2), or gram+moments
    average: bool = False  # show and save an exponential moving average of the image
    average_decay: float = 0.99
    color_match: bool = False  # give the style images the photo's colour statistics first
    carry_moments: bool = False  # Adam: carry its moment estimates to the next scale
    # "mixed": the network runs in bfloat16 (autocast) where the device has it; Gram
    # matrices, losses and pixels stay fp32. Tensor cores make it faster on GPUs.
    precision: str = "fp32"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        problems = []
        if self.model not in ARCHITECTURES:
            problems.append(f"model must be one of {', '.join(ARCHITECTURES)}")
            return problems
        names = layer_names(self.model)
        for layer in (*self.content_layers, *self.style_layers):
            if layer not in names:
                problems.append(f"unknown layer {layer} for {self.model}")
        if not self.content_layers or not self.style_layers:
            problems.append("need at least one content layer and one style layer")
        if len(self.style_layer_weights) != len(self.style_layers):
            problems.append("style_layer_weights needs one weight per style layer")
        weights = (self.content_weight, self.style_weight, self.tv_weight,
                   *self.style_layer_weights, *self.style_blend)  # fmt: skip
        if any(w < 0 for w in weights):
            problems.append("weights cannot be negative")
        if self.style_blend and sum(self.style_blend) <= 0:
            problems.append("style blend weights cannot all be zero")
        if self.pooling not in POOLINGS:
            problems.append(f"pooling must be one of {', '.join(POOLINGS)}")
        if self.padding not in PADDINGS:
            problems.append(f"padding must be one of {', '.join(PADDINGS)}")
        if self.style_statistic not in STYLE_STATISTICS:
            problems.append(f"style statistic must be one of {', '.join(STYLE_STATISTICS)}")
        if not 0 <= self.average_decay < 1:
            problems.append("average decay must be in [0, 1)")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if not 16 <= self.size <= 8192 or any(not 16 <= s <= 8192 for s in self.scales):
            problems.append("sizes must be between 16 and 8192 px")
        if not 0.05 <= self.style_scale <= 8:
            problems.append("style scale must be between 0.05 and 8")
        if self.steps < 0:
            problems.append("steps cannot be negative")
        if self.learning_rate is not None and not self.learning_rate > 0:
            problems.append("learning rate must be positive")
        return problems

    @property
    def sizes(self) -> tuple[int, ...]:
        """The output sizes to run, coarse to fine; the last is the final size."""
        return tuple(self.scales) if self.scales else (self.size,)

    @property
    def lr(self) -> float:
        return self.learning_rate or DEFAULT_LEARNING_RATES[self.optimizer]

    def replace(self, **changes) -> RunSettings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["version"] = SETTINGS_VERSION
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> RunSettings:
        """Build from JSON data; unknown keys are ignored, lists become tuples."""
        if not isinstance(data, dict):
            raise ValueError("settings must be a JSON object")
        known = {f.name: f for f in dataclasses.fields(cls)}
        values = {}
        for key, value in data.items():
            if key not in known:
                continue
            values[key] = tuple(value) if isinstance(value, list) else value
        try:
            return cls(**values)
        except TypeError as error:
            raise ValueError(f"bad settings: {error}") from error


def sqrt2_scales(size: int, start: int = 128) -> tuple[int, ...]:
    """Coarse-to-fine sizes a factor √2 apart, from `start` up to `size` (which is last)."""
    sizes, current = [], float(start)
    while round(current) < size * 0.9:  # skip a last step too small to be worth a scale
        sizes.append(round(current))
        current *= 2**0.5
    return (*sizes, size)
