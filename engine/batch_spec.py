"""Batch specs: a grid or list of runs in one JSON or TOML file, expanded into jobs.

A spec is flat: any RunSettings field, `content`, `styles`, `preset` and `session` set
every run; `runs` is a list of such tables, one run each; `grid` maps any of those keys to
a list of values, and every combination is a run (for each entry of `runs`). Paths are
relative to the spec's folder. For example (TOML):

    content = "photo.jpg"
    styles = ["starry.jpg"]
    size = 384
    [grid]
    style_weight = [2, 10]
    seed = [0, 1]

Expanding is pure: nothing is read but the spec, preset files and session records. Inputs
are named by the path as written (their labels), and found through `BatchPlan.inputs`.

The network is `model` (vgg19, vgg16) with the batch's `preprocessing` (torchvision, caffe;
unset: whichever is installed), or a catalogue model by name ("model": "vgg16-caffe"),
which sets both. One preprocessing per batch: the weights are read once, before it starts.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.catalogue import model_spec
from engine.datafile import DataFileError, parse_json, read_bounded
from engine.presets import PresetError, load_preset, preset_names
from engine.session import SessionError, load_session
from engine.settings import SPECS, RunSettings, SettingsError, sqrt2_scales, with_size
from engine.vgg import ARCHITECTURES, PREPROCESSINGS, WeightsError

RUN_KEYS = ("content", "styles", "preset", "session", *SPECS)
BATCH_KEYS = ("runs", "grid", "output", "weights", "preprocessing", "thumbnail")
MAX_SPEC_BYTES = 1_000_000
MAX_RUNS = 10_000
SESSION_IMAGE = "latest.png"  # a session's current picture: where "render at N px" starts


class BatchSpecError(ValueError):
    """A spec that cannot run; str() is one line naming the file, the run and the reason."""


@dataclass(frozen=True)
class Job:
    """One run of a batch: plain data, so it travels to a Ray worker as it is."""

    index: int
    name: str  # the output image's stem, "run-03"
    settings: RunSettings
    content: str  # input labels (BatchPlan.inputs)
    styles: tuple[str, ...]
    init: str | None = None  # the start image's label, where the run starts from a picture
    differs: tuple[tuple[str, str], ...] = ()  # (key, value) of what sets it apart
    preprocessing: str | None = None  # what its model or session asks for; None: any

    @property
    def label(self) -> str:
        """What sets this run apart from the others, for the contact sheet."""
        return " ".join(f"{key}={value}" for key, value in self.differs) or self.name

    def embedded(self) -> dict:
        """The settings saved in its picture (as `stylize` saves them)."""
        return {**self.settings.to_dict(), "content": self.content, "styles": list(self.styles)}

    def to_data(self) -> dict:
        """As JSON-like data: what a Ray task is given (its settings checked again there)."""
        return {"index": self.index, "name": self.name, "settings": self.settings.to_dict(),
                "content": self.content, "styles": list(self.styles), "init": self.init,
                "differs": [list(pair) for pair in self.differs]}  # fmt: skip

    @classmethod
    def from_data(cls, data: dict) -> Job:
        return cls(index=data["index"], name=data["name"],
                   settings=RunSettings.from_dict(data["settings"]), content=data["content"],
                   styles=tuple(data["styles"]), init=data["init"],
                   differs=tuple(tuple(pair) for pair in data["differs"]))  # fmt: skip


@dataclass(frozen=True)
class BatchSpec:
    jobs: tuple[Job, ...]
    inputs: dict[str, Path]  # label -> file
    output: Path | None
    weights: Path | None
    preprocessing: str | None  # None: the installed model's (torchvision for a weights file)
    thumbnail: int
    # Every other file the spec made Impasto read (the spec itself, presets, session
    # records), by role: no output may overwrite one.
    files: dict[str, Path] = dataclasses.field(default_factory=dict)


def spec_for(settings: RunSettings, content: str, styles: list[str],
             grid: dict[str, list] | None = None) -> dict:  # fmt: skip
    """A spec that varies `grid` around `settings` (every field written out): what the
    window's "Render variations…" would hand to `expand`."""
    fields = {name: value for name, value in settings.to_dict().items() if name in SPECS}
    return {**fields, "content": content, "styles": list(styles), "grid": dict(grid or {})}


def read_spec(path: Path) -> dict:
    """The spec file as data: JSON, or TOML (Python 3.11+) by its extension."""
    path = Path(path)
    try:
        data = read_bounded(path, MAX_SPEC_BYTES)
        if path.suffix.lower() == ".toml":
            spec = _parse_toml(data, path)
        else:
            spec = parse_json(data, path)
    except DataFileError as error:
        raise BatchSpecError(str(error)) from None
    if not isinstance(spec, dict):
        raise BatchSpecError(f"{path}: not a spec (a JSON object or TOML table)")
    return spec


def _parse_toml(data: bytes, path: Path) -> dict:
    if sys.version_info < (3, 11):
        raise BatchSpecError(f"{path}: TOML specs need Python 3.11 or newer; write it as JSON")
    import tomllib

    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise BatchSpecError(f"{path}: not valid TOML ({error})") from None


def load_spec(path: Path) -> BatchSpec:
    """Read and expand the spec file at `path`."""
    path = Path(path)
    spec = expand(read_spec(path), path.parent, str(path))
    return dataclasses.replace(spec, files={"spec": path, **spec.files})


def expand(spec: dict, folder: Path, source: str = "spec") -> BatchSpec:
    """Every run the spec describes, with its settings checked, in order: each entry of
    `runs`, and within it each combination of `grid` (the last key changing fastest)."""
    unknown = [key for key in spec if key not in RUN_KEYS and key not in BATCH_KEYS]
    if unknown:
        raise BatchSpecError(f"{source}: unknown field {unknown[0]!r} (a spec takes the run "
                             f"settings, {', '.join(RUN_KEYS[:4])} and "
                             f"{', '.join(BATCH_KEYS)})")  # fmt: skip
    base = {key: value for key, value in spec.items() if key in RUN_KEYS}
    runs = _runs(spec.get("runs", [{}]), source)
    grid = _grid(spec.get("grid", {}), source)
    # Counted before anything is expanded: 8 keys of 10 values are 10^8 runs, which would
    # fill the memory long before the count below could refuse them.
    count = len(runs) * math.prod(len(values) for values in grid.values())
    if count > MAX_RUNS:
        raise BatchSpecError(f"{source}: {count} runs; at most {MAX_RUNS} in one batch")
    preprocessing = spec.get("preprocessing")
    if preprocessing is not None and preprocessing not in PREPROCESSINGS:
        raise BatchSpecError(f"{source}: preprocessing must be one of "
                             f"{', '.join(PREPROCESSINGS)}, not {preprocessing!r}")  # fmt: skip
    choices = [
        {**base, **run, **dict(zip(grid, values, strict=True))}
        for run in runs
        for values in itertools.product(*grid.values())
    ]
    if not choices:
        raise BatchSpecError(f"{source}: no runs (an empty list in runs or grid)")
    varying = _varying(choices)
    width = len(str(len(choices)))
    inputs: dict[str, Path] = {}
    files: dict[str, Path] = {}
    jobs = []
    for index, choice in enumerate(choices):
        where = f"{source}: run {index + 1}" if len(choices) > 1 else source
        try:
            choice, named = _catalogue_model(choice)
            job = _job(index, f"run-{index + 1:0{width}d}", choice, folder, inputs)
            job = dataclasses.replace(job, preprocessing=named or job.preprocessing)
            files.update(_files_read(choice, folder))
        except (SettingsError, PresetError, SessionError, ValueError) as error:
            raise BatchSpecError(f"{where}: {error}") from None
        differs = tuple((key, _shown(choice.get(key))) for key in varying)
        jobs.append(dataclasses.replace(job, differs=differs))
    asked = {job.preprocessing for job in jobs} - {None}
    if preprocessing is not None:
        asked.add(preprocessing)
    if len(asked) > 1:
        raise BatchSpecError(f"{source}: the runs ask for {' and '.join(sorted(asked))} "
                             "preprocessing; one batch uses one (split it in two)")  # fmt: skip
    return BatchSpec(
        jobs=tuple(jobs),
        inputs=inputs,
        output=folder / _text(spec, "output", source) if "output" in spec else None,
        weights=folder / _text(spec, "weights", source) if "weights" in spec else None,
        preprocessing=asked.pop() if asked else None,
        thumbnail=_thumbnail(spec.get("thumbnail", 160), source),
        files=files,
    )


def _catalogue_model(choice: dict) -> tuple[dict, str | None]:
    """A run whose model is a catalogue name ("vgg16-caffe"): its network as the model,
    and the preprocessing that name implies."""
    model = choice.get("model")
    if model in ARCHITECTURES:
        return choice, None
    try:
        spec = model_spec(model)
    except WeightsError:
        return choice, None  # not a model at all: the settings' own check says so
    return {**choice, "model": spec.arch}, spec.preprocessing


def _files_read(choice: dict, folder: Path) -> dict[str, Path]:
    """The preset file and session record a run's settings came from, by role."""
    files = {}
    preset = choice.get("preset")
    if isinstance(preset, str) and preset not in preset_names():
        files[f"preset {preset}"] = folder / preset
    if "session" in choice:
        files[f"session {choice['session']}"] = folder / str(choice["session"]) / "session.json"
    return files


def _runs(runs: object, source: str) -> list[dict]:
    if not isinstance(runs, list) or not all(isinstance(run, dict) for run in runs):
        raise BatchSpecError(f"{source}: runs must be a list of tables (objects)")
    for number, run in enumerate(runs, start=1):
        unknown = [key for key in run if key not in RUN_KEYS]
        if unknown:
            raise BatchSpecError(f"{source}: runs item {number}: unknown field {unknown[0]!r}")
    return runs


def _grid(grid: object, source: str) -> dict[str, list]:
    if not isinstance(grid, dict):
        raise BatchSpecError(f"{source}: grid must be a table (object) of lists")
    for key, values in grid.items():
        if key not in RUN_KEYS:
            raise BatchSpecError(f"{source}: grid: unknown field {key!r}")
        if not isinstance(values, list) or not values:
            raise BatchSpecError(f"{source}: grid: {key} must be a non-empty list of values")
    return grid


def _varying(choices: list[dict]) -> list[str]:
    """The keys whose values are not the same in every run, in the order first met."""
    keys = list(dict.fromkeys(key for choice in choices for key in choice))
    shown = lambda choice, key: json.dumps(choice.get(key), sort_keys=True)  # noqa: E731
    return [key for key in keys if len({shown(choice, key) for choice in choices}) > 1]


def _shown(value: object) -> str:
    """A value as a label shows it: a file by its name, lists joined with commas."""
    if isinstance(value, list):
        return ",".join(_shown(item) for item in value)
    if isinstance(value, str) and ("/" in value or "\\" in value):
        return Path(value).name
    return "-" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _job(index: int, name: str, choice: dict, folder: Path, inputs: dict[str, Path]) -> Job:
    if "session" in choice:
        return _session_job(index, name, choice, folder, inputs)
    if "content" not in choice or "styles" not in choice:
        raise ValueError("needs content and styles (a photo and at least one painting)")
    content = _input(choice["content"], "content", folder, inputs)
    styles = tuple(_input(path, "styles", folder, inputs) for path in _paths(choice["styles"]))
    settings = settings_for(choice, folder)
    init = None
    if settings.init not in ("content", "noise"):
        init = _input(settings.init, "init", folder, inputs)
    _check_blend(settings, styles)
    return Job(index, name, settings, content, styles, init)


def _session_job(index: int, name: str, choice: dict, folder: Path, inputs: dict) -> Job:
    """Render a saved session at another size: its inputs and settings, its current picture
    as the start, continuing coarse to fine from that picture's size up to `size`."""
    if "content" in choice or "styles" in choice:
        raise ValueError("a session brings its own content and styles; give one or the other")
    session_folder = folder / _path_text(choice["session"], "session")
    session = load_session(session_folder)
    if session is None:
        raise ValueError(f"{session_folder}: no session there (no session.json)")
    label = str(choice["session"]).rstrip("/\\")
    content = _input(f"{label}/content.png", "session", folder, inputs)
    styles = tuple(_input(f"{label}/style-{i}.png", "session", folder, inputs)
                   for i in range(len(session.styles)))  # fmt: skip
    settings = settings_for(choice, folder, base=session.settings)
    if session.latest is None:  # never ran: a plain run of its inputs
        return Job(index, name, settings, content, styles, preprocessing=session.preprocessing)
    start = f"{label}/{SESSION_IMAGE}"
    _input(start, "session", folder, inputs)
    settings = settings.replace(init=start, scales=continuation_scales(
        max(session.latest.size), settings.size))  # fmt: skip
    _check_blend(settings, styles)
    return Job(index, name, settings, content, styles, init=start,
               preprocessing=session.preprocessing)


def continuation_scales(reached: int, size: int) -> tuple[int, ...]:
    """Coarse-to-fine sizes that go on from a picture `reached` px long up to `size`: a √2
    ladder above `reached` (the run starts from that picture, so its own size is done)."""
    if size <= reached * 1.2:
        return ()  # one step: at or near the picture's size, or smaller
    ladder = sqrt2_scales(size, start=round(reached * 2**0.5))
    return tuple(s for s in ladder if s > reached)


def settings_for(choice: dict, folder: Path, base: RunSettings | None = None) -> RunSettings:
    """The run's settings: `base` (the defaults), then its preset, then each field it sets,
    as the command line does (a preset's ladder follows a new size; new style layers get
    equal weights unless weights are given)."""
    settings = base or RunSettings()
    if "preset" in choice:
        if base is not None:
            raise ValueError("a session brings its own settings; give a preset or a session")
        settings = load_preset(_text_value(choice["preset"], "preset"), folder)
    values = {name: _setting_value(name, value) for name, value in choice.items() if name in SPECS}
    if "size" not in values and values.get("scales"):
        values["size"] = values["scales"][-1]
    layers = values.get("style_layers", settings.style_layers)
    if "style_layer_weights" not in values and len(layers) != len(settings.style_layers):
        values["style_layer_weights"] = (1.0,) * len(layers)
    if "size" in values and "scales" not in values:
        settings = with_size(settings, values["size"])
    return settings.replace(**values)


def _setting_value(name: str, value: object) -> object:
    # JSON and TOML give lists; RunSettings holds tuples (its rules check the items).
    return tuple(value) if isinstance(value, list) else value


def _check_blend(settings: RunSettings, styles: tuple[str, ...]) -> None:
    if settings.style_blend and len(settings.style_blend) != len(styles):
        raise ValueError(f"style_blend has {len(settings.style_blend)} weights for "
                         f"{len(styles)} styles")  # fmt: skip


def _paths(value: object) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError("styles must be a file or a non-empty list of files")
    return items


def _input(value: object, key: str, folder: Path, inputs: dict[str, Path]) -> str:
    label = _path_text(value, key)
    inputs.setdefault(label, folder / label)
    return label


def _path_text(value: object, key: str) -> str:
    text = _text_value(value, key)
    if not text.strip():
        raise ValueError(f"{key} must name a file")
    return text


def _text_value(value: object, key: str) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(f"{key} must be text (a name or a file)")
    return value


def _text(spec: dict, key: str, source: str, default: str | None = None) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str) or not value:
        raise BatchSpecError(f"{source}: {key} must be text")
    return value


def _thumbnail(value: object, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 32 <= value <= 1024:
        raise BatchSpecError(f"{source}: thumbnail must be a whole number from 32 to 1024 (px)")
    return value
