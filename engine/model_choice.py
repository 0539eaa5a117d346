"""Which catalogue model to run: what is installed, which one to pick, and importing a file
as a model the user names.

The catalogue (engine/models.json) lists every known model; a user may have any of them
installed, VGG16 and not VGG19, say. The window shows them all and runs the chosen one.
Reads manifests only (never the weights), so it is cheap enough to call at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.catalogue import (
    ModelSpec,
    default_model_name,
    how_to_install,
    known_models,
    model_spec,
)
from engine.vgg import ARCHITECTURES, WeightsError, read_state_dict
from engine.weights_store import InstalledModel, find_installed, import_file

__all__ = ["ModelChoice", "import_as", "installed_model", "model_choices", "pick_model"]


@dataclass(frozen=True)
class ModelChoice:
    name: str
    title: str
    arch: str
    installed: bool
    problem: str = ""  # why it cannot be used: not installed, or a broken manifest


def model_choices() -> list[ModelChoice]:
    """Every catalogue model, in catalogue order, with whether it is installed."""
    choices = []
    for spec in known_models():
        try:
            installed, problem = find_installed(spec.name) is not None, ""
        except WeightsError as error:  # a damaged manifest: shown, not usable
            installed, problem = False, str(error)
        if not installed and not problem:
            problem = "not installed"
        choices.append(ModelChoice(spec.name, spec.title, spec.arch, installed, problem))
    return choices


def pick_model(choices: list[ModelChoice], remembered: str | None = None) -> str | None:
    """The model to use: the remembered one if installed, else the catalogue default if
    installed, else the first installed one; None when none is installed."""
    usable = [choice.name for choice in choices if choice.installed]
    for name in (remembered, default_model_name()):
        if name in usable:
            return name
    return usable[0] if usable else None


def installed_model(network: str, preprocessing: str | None = None) -> str:
    """The installed catalogue model of this network (vgg19, vgg16) and preprocessing
    (torchvision, caffe; None: either), so a run that names only those finds, say, an
    imported vgg16-caffe. In catalogue order where several fit; WeightsError (saying how
    to get one) where none is installed."""
    fitting = [spec for spec in known_models() if spec.arch == network
               and preprocessing in (None, spec.preprocessing)]  # fmt: skip
    if not fitting:
        raise WeightsError(f"no catalogue model is a {network} with {preprocessing} "
                           "preprocessing")  # fmt: skip
    for spec in fitting:
        if find_installed(spec.name) is not None:
            return spec.name
    others = [choice.name for choice in model_choices() if choice.installed]
    wanted = f"{network} with {preprocessing} preprocessing" if preprocessing else network
    installed = f" (installed: {', '.join(others)})" if others else ""
    raise WeightsError(f"no {wanted} installed{installed}; {how_to_install(fitting[0].name)}")


def import_as(path: str | Path, name: str | None) -> InstalledModel:
    """Import a weights file as catalogue model `name` (None: let its hash or shapes say).

    A file whose tensors do not fit the model's architecture is refused, and the message
    says which architecture it does fit, so the user can pick a model of that kind.
    """
    if name is None:
        return import_file(path, None)
    spec = model_spec(name)
    try:
        return import_file(path, name)
    except WeightsError as error:
        if not _is_shape_mismatch(str(error), spec.arch):
            raise
        raise WeightsError(_wrong_architecture(Path(path), spec, str(error))) from None


def _is_shape_mismatch(message: str, arch: str) -> bool:
    # engine.vgg.validate_state_dict's wording for missing keys and wrong shapes.
    return f"for {arch}" in message or f"{arch} needs" in message


def _wrong_architecture(path: Path, spec: ModelSpec, detail: str) -> str:
    fits = [arch for arch in ARCHITECTURES if arch != spec.arch and _fits(path, arch)]
    wanted = f"{spec.name} ({spec.title}) is a {spec.arch.upper()}"
    if not fits:
        return f"{detail}; the file does not fit {spec.name}: {wanted}"
    others = [s.name for s in known_models() if s.arch == fits[0]]
    return (
        f"{path}: the file holds a {fits[0].upper()}, but {wanted}; "
        f"import it as one of: {', '.join(others)}"
    )


def _fits(path: Path, arch: str) -> bool:
    try:
        read_state_dict(path, arch)
    except WeightsError:
        return False
    return True
