"""Run settings: one frozen dataclass, saved beside outputs and in presets as JSON.

Each field is declared once, with its Setting (label, help, rule, whether it is live and
whether presets set it); the command line, the checks, the window's controls and preset
matching are derived from that declaration.

Defaults follow the published tools, for ImageNet-trained VGG19 (never for a random net):
- layers: Gatys et al. 2016 and neural-style: content relu4_2; style relu1_1 ... relu5_1,
  weighted 1.5, 1.5, 1.5, 0.5, 0 (SUBJECT_LAYER_WEIGHTS: why, there);
- loss weights: content 2, style 5, TV 1, measured on a trained VGG16 (bench/README.md,
  "Defaults" and "Keeping the subject"). The losses are relative errors (engine/losses.py),
  so these weights mean the same for every model and preprocessing; none has its own;
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

DEFAULT_LEARNING_RATES = {"lbfgs": 1.0, "adam": 0.02}
STYLE_STATISTICS = ("gram", "moments", "gram+moments")
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
# A falling profile (16:8:4:2:1, normalised to sum to the layer count): the shallow layers
# carry colour and brush texture, the deep ones large shapes that can swamp a photo. With
# relative losses every layer starts near 1, so the profile is gentler than crowsonkb's
# 256:64:16:4:1, which on a trained VGG16 left only fine texture (bench/README.md).
FALLING_LAYER_WEIGHTS = tuple(round(5 * w / 31, 6) for w in (16, 8, 4, 2, 1))
# The default profile (issue 23, bench/README.md "Keeping the subject"). Each layer's loss
# is a relative error, so equal weights gave relu5_1, whose Gram matrix carries the
# painting's objects, 600-6000x the pull neural-style's raw Gram errors give it on the
# trained VGG16 (relu4_1 about the same pull): the astronaut's face broke into the Matisse
# woman's green and pink patches and 17 % of the picture's deep features were copies of the
# painting's. relu5_1 at 0 (still a layer, so a user can raise it) and relu4_1 at 0.5 keep
# eyes, nose and mouth and copy nothing; the other three carry the colour and brushwork.
SUBJECT_LAYER_WEIGHTS = (1.5, 1.5, 1.5, 0.5, 0.0)
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


@dataclass(frozen=True)
class Setting:
    """What one RunSettings field is, declared on the field itself; the command line
    (engine/cli.py), the checks, the window's controls (gui/bind.py) and preset matching
    are all derived from it, so a new setting is one declaration.

    `rule`: its type and finite range, checked for every way in (command line, presets,
    sessions, the window). `live`: it may change during a run (the weights; the display
    toggles); the others shape the targets, network or sizes and wait for the next run.
    `choices`: (value, label) pairs, the labels for the window. `window`: the window's
    control range and step where narrower than the rule's. `preset`: presets set it, so it
    decides whether the window shows a preset as "(modified)"."""

    rule: Field
    label: str
    help: str
    live: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""
    window: tuple[float, float, float] | None = None  # low, high, step
    preset: bool = False
    items: str = ""  # a list's item kind, "int", "number" or "text", for parsing


def setting(default, label: str, help: str, rule: Field | None = None, **options):
    """A dataclass field declared with its Setting; `choices` alone make the rule."""
    choices = options.get("choices", ())
    if rule is None:
        rule = _choice(tuple(value for value, _ in choices))
    spec = Setting(rule, label, help, **options)
    return field(default=default, metadata={"setting": spec})


# Wide enough for any real use (tests run style weights of 3e9 on random networks), narrow
# enough that no number in range makes the run useless or overflows (1e300 squared is inf;
# a 2**70 seed is not a seed).
_WEIGHT = Field("number", 0, 1e12)
_LAYERS = Field("list", max_length=64, check=_each(Field("text", max_length=32)))
_LAYER_WEIGHTS = Field("list", max_length=64, check=_each(Field("number", 0, 1e6)))
_SIZE = Field("int", 16, 8192)
_ON_OFF = Field("bool")


def _labelled(values: tuple[str, ...], **labels: str) -> tuple[tuple[str, str], ...]:
    """(value, label) for the engine's own names; a label is the value capitalised unless
    given as label=value."""
    named = {value: label for label, value in labels.items()}
    return tuple((value, named.get(value, value.capitalize())) for value in values)


@dataclass(frozen=True)
class RunSettings:
    model: str = setting(
        "vgg19", "Model", "the network that sees the style (vgg19, vgg16)",
        choices=tuple((arch, arch.upper()) for arch in ARCHITECTURES))  # fmt: skip
    pooling: str = setting(
        "max", "Pooling", "average pooling gives smoother, less grainy texture; scaled keeps "
        "its strength", choices=_labelled(POOLINGS, Max="max", Average="avg",
                                          **{"Scaled average": "avg_scaled"}),
        preset=True)  # fmt: skip
    content_layers: tuple[str, ...] = setting(
        ("relu4_2",), "Content layers", "the layers whose features keep the photo's content",
        _LAYERS, items="text")  # fmt: skip
    style_layers: tuple[str, ...] = setting(
        STYLE_LAYERS, "Style layers", "the layers whose Gram matrices carry the style",
        _LAYERS, items="text")  # fmt: skip
    style_layer_weights: tuple[float, ...] = setting(
        SUBJECT_LAYER_WEIGHTS, "Brushwork from fine to large", "how much each scale of "
        "the painting counts, from fine brushwork and colour to large shapes (one weight per "
        "style layer, shallow to deep)",
        _LAYER_WEIGHTS, live=True, preset=True, items="number")  # fmt: skip
    content_weight: float = setting(
        2.0, "Photo strength", "how much of the photo's shapes to keep (content weight)", _WEIGHT,
        live=True,
        window=(0.01, 100, 0))  # fmt: skip
    style_weight: float = setting(
        5.0, "Style strength", "how strongly to paint in the style (style weight)", _WEIGHT,
        live=True,
        window=(0.05, 500, 0))  # fmt: skip
    tv_weight: float = setting(
        1.0, "Smoothness", "smooths pixel noise; higher is softer (total variation weight)",
        _WEIGHT, live=True,
        window=(0.01, 100, 0))  # fmt: skip
    # One blend weight per style image (the style rows' weights); empty means equal.
    style_blend: tuple[float, ...] = setting(
        (), "Style blend", "one blend weight per painting", _LAYER_WEIGHTS, live=True,
        items="number")  # fmt: skip
    style_scale: float = setting(
        1.0, "Style scale", "the painting's size relative to the output's: larger gives "
        "larger brush strokes", Field("number", 0.05, 8), window=(0.1, 4, 0.1))  # fmt: skip
    size: int = setting(
        512, "Output size", "longest side of the output", _SIZE, unit="px",
        window=(64, 4096, 32))  # fmt: skip
    scales: tuple[int, ...] = setting(
        (), "Scales", "coarse-to-fine sizes, rising to the output size (e.g. 256,512); "
        "empty: one size", Field("list", max_length=16, check=_each(_SIZE)),
        preset=True, items="int")  # fmt: skip
    coarse_to_fine: bool = setting(
        False, "Coarse to fine", "without Scales: start at 128 px and grow by √2 to the output "
        "size, so most steps run where they are cheap", _ON_OFF, preset=True)  # fmt: skip
    steps: int = setting(
        100, "Steps per scale", "the most optimisation steps at each size (a scale that "
        "settles ends sooner); with Coarse to fine the run can do them at every scale, so its "
        "total is at most this times the number of scales", Field("int", 0, 1_000_000),
        window=(1, 10_000, 50), preset=True)  # fmt: skip
    settle: float = setting(
        0.5, "Stop when settled", "a scale ends, and the last one the run, once its picture "
        "changes by less than this many 8-bit levels per step (measured every 10 steps); "
        "Steps per scale is then a ceiling. 0: always run every step",
        Field("number", 0, 255), unit="levels/step", window=(0, 10, 0.05),
        preset=True)  # fmt: skip
    optimizer: str = setting(
        "lbfgs", "Optimizer", "L-BFGS (the paper's) or Adam",
        choices=(("lbfgs", "L-BFGS"), ("adam", "Adam")), preset=True)  # fmt: skip
    learning_rate: float | None = setting(
        None, "Learning rate", "default: 1 for lbfgs, 0.02 for adam",
        Field("number", 1e-9, 1e4, nullable=True), live=True, preset=True)  # fmt: skip
    lbfgs_memory: int = setting(
        100, "L-BFGS memory", "how many past steps L-BFGS learns the curvature from; fewer "
        "use less memory at large sizes (neural-style's -lbfgs_num_correction)",
        Field("int", 1, 1000))  # fmt: skip
    init: str = setting(
        "content", "Start from", "content (the photo), noise, or an image file",
        Field("text", check=lambda text: None if text else "cannot be empty"),
        choices=(("content", "Photo"), ("noise", "Noise")), preset=True)  # fmt: skip
    seed: int = setting(0, "Seed", "the noise start and any randomness", Field("int", 0, 2**31 - 1))
    preserve_colors: bool = setting(
        False, "Keep the photo's colours", "luminance-only transfer", _ON_OFF, live=True
    )
    device: str = setting(
        "auto",
        "Device",
        "where to run",
        choices=tuple(
            (name, {"auto": "Automatic"}.get(name, name.upper())) for name in DEVICE_CHOICES
        ),
    )
    snapshot_every: int = setting(
        0, "Snapshot every", "keep a snapshot every N steps (0: none)",
        Field("int", 0, 1_000_000), window=(0, 10_000, 5))  # fmt: skip
    # Beyond the classic method (crowsonkb/style-transfer-pytorch; Gatys et al. 2017):
    padding: str = setting(
        "zeros", "Padding", "how the first convolutions see past the picture's edge; on "
        "the trained VGG16 all three gave the same borders (bench/README.md)",
        choices=_labelled(PADDINGS), preset=True)  # fmt: skip
    style_statistic: str = setting(
        "gram", "Style match", "textures match how the painting's features occur together "
        "(Gram matrices, the paper's); colours and spread match each feature's mean and "
        "spread (moments, Wasserstein-2): steadier colours",
        choices=_labelled(STYLE_STATISTICS, Textures="gram", **{"Colours and spread": "moments",
                          "Both": "gram+moments"}),
        preset=True)  # fmt: skip
    average: bool = setting(
        False, "Averaged image", "show and save a running average of the steps: Adam's "
        "speckle cancels out", _ON_OFF, live=True, preset=True)  # fmt: skip
    average_decay: float = setting(
        0.99, "Average decay", "how slowly the averaged image follows the steps",
        Field("number", 0, 0.9999))  # fmt: skip
    color_match: bool = setting(
        False, "Match colours to the photo", "recolour the paintings with the photo's "
        "palette first: their brushwork, its colours", _ON_OFF)  # fmt: skip
    carry_moments: bool = setting(
        False, "Smooth hand-over between sizes", "with coarse to fine, go on from one size to "
        "the next without a jolt (Adam keeps its momentum across scales)", _ON_OFF,
        preset=True)  # fmt: skip
    # "mixed": the network runs in bfloat16 (autocast) where the device has it; Gram
    # matrices, losses and pixels stay fp32. "auto" (the default) is mixed exactly where the
    # device has bfloat16 units (engine/device.py), where it was measured faster for the
    # same picture (bench/README.md, "Precision on the trained VGG16"); fp32 elsewhere.
    precision: str = setting(
        "auto", "Precision", "faster uses shorter numbers for the network: quicker on recent "
        "GPUs and CPUs that have them, the picture almost the same; elsewhere Impasto runs "
        "in full precision and says so (auto: faster where the device has bfloat16 units, "
        "else full; mixed: bfloat16 autocast; full: fp32)",
        choices=(("auto", "Automatic"), ("fp32", "Full"), ("mixed", "Faster (mixed)")))  # fmt: skip

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
        if self.scales:
            return tuple(self.scales)
        return sqrt2_scales(self.size) if self.coarse_to_fine else (self.size,)

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


SPECS: dict[str, Setting] = {f.name: f.metadata["setting"] for f in dataclasses.fields(RunSettings)}
RULES: dict[str, Field] = {name: spec.rule for name, spec in SPECS.items()}
LIVE_FIELDS = tuple(name for name, spec in SPECS.items() if spec.live)
PRESET_FIELDS = tuple(name for name, spec in SPECS.items() if spec.preset)
OPTIMIZERS = tuple(value for value, _ in SPECS["optimizer"].choices)
PRECISIONS = tuple(value for value, _ in SPECS["precision"].choices)


def sqrt2_scales(size: int, start: int = 128) -> tuple[int, ...]:
    """Coarse-to-fine sizes a factor √2 apart, from `start` up to `size` (which is last)."""
    sizes, current = [], float(start)
    while round(current) < size * 0.9:  # skip a last step too small to be worth a scale
        sizes.append(round(current))
        current *= 2**0.5
    return (*sizes, size)


def with_size(settings: RunSettings, size: int) -> RunSettings:
    """`settings` at another output size. A coarse-to-fine ladder keeps its shape: a √2
    ladder (Smooth) stays one, any other is scaled by the same ratio, still rising to the
    new size."""
    if not settings.scales:
        return settings.replace(size=size)
    if size == settings.size:
        return settings
    if settings.scales == sqrt2_scales(settings.size):
        return settings.replace(size=size, scales=sqrt2_scales(size))
    ratio = size / settings.size
    coarse = {max(16, round(s * ratio)) for s in settings.scales[:-1]}
    return settings.replace(size=size, scales=(*sorted(s for s in coarse if s < size), size))
