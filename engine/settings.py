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

from engine.datafile import Field, field_problem
from engine.device import DEVICE_CHOICES
from engine.vgg import ARCHITECTURES, PADDINGS, POOLINGS, layer_names

OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("fp32", "mixed")
DEFAULT_LEARNING_RATES = {"lbfgs": 1.0, "adam": 0.02}
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_STATISTICS = ("gram", "moments", "gram+moments")
# A falling profile (16:8:4:2:1, normalised to sum to the layer count): the shallow layers
# carry colour and brush texture, the deep ones large shapes that can swamp a photo. With
# relative losses every layer starts near 1, so the profile is gentler than crowsonkb's
# 256:64:16:4:1, which on a trained VGG16 left only fine texture (bench/README.md).
FALLING_LAYER_WEIGHTS = tuple(round(5 * w / 31, 6) for w in (16, 8, 4, 2, 1))
# 2: the losses became relative errors, so loss weights saved by version 1 (1e6 and the
# like) mean something else now and are dropped when read.
SETTINGS_VERSION = 2
LOSS_WEIGHTS = ("content_weight", "style_weight", "tv_weight")


class SettingsError(ValueError):
    """Settings that cannot run; `problems` lists (field, reason) so a caller can name its
    own flag or control; str() is every problem on one line."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{name} {text}" for name, text in problems))


def _one_of(choices: tuple[str, ...]):
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _each(rule: Field):
    """A list rule whose every item must fit `rule`."""

    def check(items) -> str | None:
        problems = (field_problem(item, rule) for item in items)
        problem = next((p for p in problems if p), None)
        return f"items {problem}" if problem else None

    return check


def _choice(choices: tuple[str, ...]) -> Field:
    return Field("text", check=_one_of(choices))


# One rule per field: its type, and a finite range for numbers. Wide enough for any real
# use (tests run style weights of 3e9 on random networks), narrow enough that no number
# in range makes the run useless or overflows (1e300 squared is inf; a 2**70 seed is not
# a seed). Checked for every way in: the command line, presets, sessions, the window.
_WEIGHT = Field("number", 0, 1e12)
_LAYERS = Field("list", max_length=64, check=_each(Field("text", max_length=32)))
_SIZE = Field("int", 16, 8192)
RULES: dict[str, Field] = {
    "model": _choice(ARCHITECTURES),
    "pooling": _choice(POOLINGS),
    "content_layers": _LAYERS,
    "style_layers": _LAYERS,
    "style_layer_weights": Field("list", max_length=64, check=_each(Field("number", 0, 1e6))),
    "content_weight": _WEIGHT,
    "style_weight": _WEIGHT,
    "tv_weight": _WEIGHT,
    "style_blend": Field("list", max_length=64, check=_each(Field("number", 0, 1e6))),
    "style_scale": Field("number", 0.05, 8),
    "size": _SIZE,
    "scales": Field("list", max_length=16, check=_each(_SIZE)),
    "steps": Field("int", 0, 1_000_000),
    "optimizer": _choice(OPTIMIZERS),
    "learning_rate": Field("number", 1e-9, 1e4, nullable=True),
    "init": Field("text", check=lambda text: None if text else "cannot be empty"),
    "seed": Field("int", 0, 2**31 - 1),  # the window's seed box holds no more
    "preserve_colors": Field("bool"),
    "device": _choice(DEVICE_CHOICES),
    "snapshot_every": Field("int", 0, 1_000_000),
    "padding": _choice(PADDINGS),
    "style_statistic": _choice(STYLE_STATISTICS),
    "average": Field("bool"),
    "average_decay": Field("number", 0, 0.9999),
    "color_match": Field("bool"),
    "carry_moments": Field("bool"),
    "precision": _choice(PRECISIONS),
}


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
        problems = self.field_problems()
        if problems:
            raise SettingsError(problems)

    def problems(self) -> list[str]:
        """Why these settings cannot run: "<field> <reason>", one line each."""
        return [f"{name} {text}" for name, text in self.field_problems()]

    def field_problems(self) -> list[tuple[str, str]]:
        """(field, "must be ...") for each problem; first the per-field rules (RULES), then
        the rules between fields, which need every field to have the right type."""
        problems = [(name, problem) for name, rule in RULES.items()
                    if (problem := field_problem(getattr(self, name), rule))]  # fmt: skip
        if problems:
            return problems
        names = layer_names(self.model)
        for kind in ("content_layers", "style_layers"):
            for layer in getattr(self, kind):
                if layer not in names:
                    problems.append((kind, f"has an unknown layer {layer} for {self.model}"))
        for kind in ("content_layers", "style_layers"):
            if not getattr(self, kind):
                problems.append((kind, "needs at least one layer"))
        if len(self.style_layer_weights) != len(self.style_layers):
            problems.append(("style_layer_weights", "needs one weight per style layer"))
        if self.style_blend and sum(self.style_blend) <= 0:
            problems.append(("style_blend", "cannot be all zero"))
        # Coarse to fine: each scale larger than the one before, the last the output size
        # (64,32 would quietly give a 32 px picture).
        rising = all(a < b for a, b in zip(self.scales, self.scales[1:], strict=False))
        if self.scales and (not rising or self.scales[-1] != self.size):
            problems.append(("scales", f"must rise to the size ({self.size} px), "
                             f"e.g. {max(16, self.size // 2)},{self.size}"))  # fmt: skip
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
        old = data.get("version") == 1  # written before version 2; hand-written files have none
        values = {}
        for key, value in data.items():
            if key not in known or (old and key in LOSS_WEIGHTS):
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
