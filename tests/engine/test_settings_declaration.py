"""Each setting is declared once (engine/settings.py); every way in must reach every field.

The values below are made from each field's declaration, so a new setting is walked
without touching this file."""

import dataclasses

import pytest

from engine.cli import build_parser, main
from engine.images import read_settings
from engine.presets import apply_preset, preset_names
from engine.settings import LIVE_FIELDS, PRESET_FIELDS, SPECS, RunSettings
from tests.engine.helpers import painting, photo

DEFAULTS = RunSettings()
# Fields whose valid values depend on other fields: a value that fits the defaults.
DEPENDENT = {
    "content_layers": ("relu3_1",),
    "style_layers": ("relu1_1", "relu3_1"),
    "style_layer_weights": (2.0, 1.0, 0.5, 0.25, 0.125),
    "style_blend": (1.0, 3.0),  # two paintings below
    "scales": (256, 512),
    "init": "noise",
}


def other_value(name: str):
    """A valid value for `name` that is not its default."""
    if name in DEPENDENT:
        return DEPENDENT[name]
    spec, default = SPECS[name], getattr(DEFAULTS, name)
    if spec.choices:
        return next(value for value, _ in spec.choices if value != default)
    if spec.rule.kind == "bool":
        return not default
    if spec.rule.kind == "int":
        return default + 1
    if spec.rule.kind == "number":
        return 0.5 if default is None else default / 2
    raise AssertionError(f"no example value for {name}: add it to DEPENDENT")


def cli_words(name: str, value) -> list[str]:
    flag = "--" + name.replace("_", "-")
    if name == "model":  # by catalogue name, which is named after its network here
        return ["--model", value]
    if isinstance(value, bool):
        return [flag if value else "--no-" + flag[2:]]
    if isinstance(value, tuple):
        return [flag, ",".join(map(str, value))]
    return [flag, str(value)]


def parse(*words: str) -> RunSettings:
    from engine.cli import _settings_from_args

    args = build_parser().parse_args(["stylize", "a.png", "b.png", "c.png", "-o", "o.png", *words])
    return _settings_from_args(args)


@pytest.mark.parametrize("name", list(SPECS))
def test_the_command_line_reaches_every_setting(name):
    value = other_value(name)
    settings = parse(*cli_words(name, value))
    assert getattr(settings, name) == value
    others = {f: getattr(settings, f) for f in SPECS if f != name and f not in DEPENDENT}
    assert others == {f: getattr(DEFAULTS, f) for f in others}  # and nothing else moved


@pytest.mark.parametrize("name", list(SPECS))
def test_a_preset_file_round_trips_every_setting(name, tmp_path):
    changes = {name: other_value(name)}
    if name == "style_layers":
        changes["style_layer_weights"] = (1.0, 1.0)
    settings = DEFAULTS.replace(**changes)
    assert RunSettings.from_dict(settings.to_dict()) == settings
    path = tmp_path / "mine.json"
    path.write_text(settings.to_json())
    assert parse("--preset", str(path)) == settings  # the command line reads it as a preset


def test_every_setting_has_what_the_window_and_help_need():
    for name, spec in SPECS.items():
        assert spec.label and spec.help, name
        if spec.choices:  # the window's labels cover exactly the values the rule allows
            for value, label in spec.choices:
                assert label and getattr(RunSettings(**{name: value}), name) == value
    assert {"content_weight", "style_weight", "tv_weight", "style_blend"} <= set(LIVE_FIELDS)
    assert "size" not in LIVE_FIELDS and "size" not in PRESET_FIELDS


@pytest.mark.parametrize("name", preset_names())
def test_the_command_line_runs_every_preset(name, tmp_path, random_weights_file):
    content, style, out = tmp_path / "photo.png", tmp_path / "painting.png", tmp_path / "o.png"
    photo().save(content)
    painting().save(style)
    argv = ["stylize", str(content), str(style), "-o", str(out), "--preset", name, "--quiet",
            "--weights", random_weights_file, "--size", "32", "--steps", "2"]  # fmt: skip
    assert main(argv) == 0
    saved = read_settings(out)
    expected = apply_preset(DEFAULTS, name)
    for field in PRESET_FIELDS:
        if field not in ("scales", "steps"):  # set for this test's size and speed
            want = getattr(expected, field)
            assert saved[field] == (list(want) if isinstance(want, tuple) else want), field
    assert saved["size"] == 32 and saved["steps"] == 2


def test_a_preset_name_or_file_that_is_wrong_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"steps": -1}')
    for preset, expected in (("Sharp", "no preset named 'Sharp'"), (str(bad), "bad.json")):
        argv = ["stylize", "a.png", "b.png", "-o", str(tmp_path / "o.png"), "--preset", preset]
        assert main(argv) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and expected in error[0]


def test_options_change_the_preset_they_follow():
    smooth = parse("--preset", "Smooth", "--size", "256", "--steps", "9")
    assert smooth.optimizer == "adam" and smooth.steps == 9
    assert (
        smooth.scales[-1] == 256
        and smooth.scales == apply_preset(DEFAULTS.replace(size=256), "Smooth").scales
    )  # the √2 ladder follows the size
    assert dataclasses.replace(smooth, steps=60) == apply_preset(
        DEFAULTS.replace(size=256), "Smooth"
    )
