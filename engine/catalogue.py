"""The catalogue of known VGG weights files (engine/models.json): what each model is, where it
is published, and how a user gets it.

Impasto needs ImageNet-trained VGG weights that no package ships. Each catalogue entry names
one published file; engine/weights_download.py fetches it, engine/weights_store.py keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine.datafile import load_json
from engine.vgg import WeightsError

__all__ = [
    "ModelSpec",
    "default_model_name",
    "how_to_install",
    "known_models",
    "model_spec",
]

CATALOGUE_FILE = Path(__file__).with_name("models.json")
MAX_CATALOGUE_BYTES = 64 * 1024  # the catalogue is a few kB


@dataclass(frozen=True)
class ModelSpec:
    """One known weights file, as published."""

    name: str
    title: str
    arch: str
    preprocessing: str
    url: str
    sha256_prefix: str
    sha256: str | None  # the full hash, where one is published
    download_size: int
    size_is_exact: bool
    source: str

    @property
    def filename(self) -> str:
        """The published file name (torch.hub caches the file under this name)."""
        return self.url.rsplit("/", 1)[-1]

    def matches(self, sha256: str) -> bool:
        """Whether a file with this SHA-256 is the published file."""
        return sha256 == self.sha256 if self.sha256 else sha256.startswith(self.sha256_prefix)


@dataclass(frozen=True)
class Catalogue:
    default: str
    models: tuple[ModelSpec, ...]


def load_catalogue(path: Path) -> Catalogue:
    data = load_json(path, None, MAX_CATALOGUE_BYTES)  # shipped with Impasto, read the same way
    fields = ModelSpec.__dataclass_fields__
    models = tuple(ModelSpec(**{k: v for k, v in m.items() if k in fields}) for m in data["models"])
    return Catalogue(default=data["default"], models=models)


@cache
def _catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE_FILE)


def known_models() -> list[ModelSpec]:
    return list(_catalogue().models)


def default_model_name() -> str:
    return _catalogue().default


def model_spec(name: str) -> ModelSpec:
    for spec in _catalogue().models:
        if spec.name == name:
            return spec
    names = ", ".join(spec.name for spec in _catalogue().models)
    raise WeightsError(f"unknown model {name!r}; known models: {names}")


def how_to_install(name: str) -> str:
    """One line telling the user how to get model `name` (for "not installed" messages)."""
    spec = model_spec(name)
    return (
        f"model {name} is not installed; download it once with "
        f"`python main.py weights download {name}` (about {spec.download_size / 2**20:.0f} MiB), "
        f"or import a copy of {spec.filename} with `python main.py weights import FILE --as {name}`"
    )
