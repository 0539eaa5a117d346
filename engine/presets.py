"""Named starting points. A preset is a set of changes on top of the defaults; every
setting can still be changed afterwards (the window then shows the preset as modified)."""

from __future__ import annotations

from pathlib import Path

from engine.session import read_json
from engine.settings import (
    FALLING_LAYER_WEIGHTS,
    PRESET_FIELDS,
    RunSettings,
    SettingsError,
    sqrt2_scales,
)

# Smooth's and Fast preview's profile: the falling 16:8:4:2:1 with relu5_1 at 0 (issue 23,
# bench/README.md "Keeping the subject"). relu5_1's Gram matrix carries the painting's
# objects: at 0.16 it still pasted them (copies 0.04-0.10 on the trained VGG16, swirls in
# the cat's eyes); at 0 nothing is copied and the photo's edges come back. Not renormalised:
# that is the profile measured.
PRESET_LAYER_WEIGHTS = (*FALLING_LAYER_WEIGHTS[:-1], 0.0)


class PresetError(ValueError):
    """A preset name or file that cannot be used; str() is one line naming it."""


def _default(size: int) -> dict:
    """The engine's defaults: L-BFGS on Gram matrices at one size, from the photo, until the
    picture settles (bench/README.md, "Time to picture")."""
    defaults = RunSettings()
    return {field: getattr(defaults, field) for field in PRESET_FIELDS} | {"size": size}


def _classic(size: int) -> dict:
    """Gatys et al. 2016 as neural-style runs it: L-BFGS on Gram matrices at one size, a
    fixed number of steps."""
    return {**_default(size), "steps": 300, "settle": 0.0}


def _smooth(size: int) -> dict:
    """crowsonkb/style-transfer-pytorch's improvements together: Adam with an averaged
    iterate (no speckle), Gram plus moment statistics, replicate padding (clean borders),
    a falling layer profile without relu5_1, and √2 coarse-to-fine scales that carry Adam's
    moments."""
    return {**_default(size), "optimizer": "adam", "learning_rate": None, "steps": 60,
            "scales": sqrt2_scales(size), "size": size, "style_statistic": "gram+moments",
            "average": True, "padding": "replicate", "style_layer_weights": PRESET_LAYER_WEIGHTS,
            "carry_moments": True, "settle": 0.0}  # fmt: skip


def _fast_preview(size: int) -> dict:
    """A quick look at 256 px: small scales, few steps, averaged Adam, Gram statistics only
    (the moment term's eigendecompositions made Smooth 1.35x slower per step, measured)."""
    return {**_smooth(256), "steps": 40, "style_statistic": "gram"}


PRESETS = {"Quick finish": _default, "Classic (Gatys)": _classic, "Smooth": _smooth,
           "Fast preview": _fast_preview}  # fmt: skip


def preset_names() -> list[str]:
    return list(PRESETS)


def apply_preset(settings: RunSettings, name: str) -> RunSettings:
    """`settings` with the preset's fields; size (except for Fast preview), weights, blend
    and the rest are kept."""
    changes = PRESETS[name](settings.size)
    if len(settings.style_layers) != len(changes["style_layer_weights"]):
        changes.pop("style_layer_weights")
    return settings.replace(**changes)


def matching_preset(settings: RunSettings) -> str | None:
    """The preset `settings` still equals on every preset field (PRESET_FIELDS, declared
    with preset=True), or None ("modified")."""
    for name in PRESETS:
        if apply_preset(settings, name) == settings:
            return name
    return None


def load_preset(name_or_file: str, folder: Path = Path(".")) -> RunSettings:
    """The settings of a preset by name, or of a preset file (relative to `folder`): the
    command line's --preset and a batch spec's "preset"."""
    if name_or_file in PRESETS:
        return apply_preset(RunSettings(), name_or_file)
    path = folder / name_or_file
    if not path.suffix and not path.exists():
        raise PresetError(f"no preset named {name_or_file!r} (choose {', '.join(PRESETS)}, "
                          "or give a preset file)")  # fmt: skip
    try:
        return RunSettings.from_dict(read_json(path))
    except SettingsError as error:
        raise PresetError(f"{path}: not a usable preset ({error})") from None
    except (OSError, ValueError) as error:
        reason = str(error).removeprefix(f"{path}: ")
        raise PresetError(f"{path}: not a preset file ({reason})") from None
