"""Numbers at the command line (issue 17): every number is checked by its field's one rule
before anything runs, and the one-line message names the flag; a bad argument is one line,
not the usage text."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cli import UsageError, _settings_from_args, build_parser, main
from engine.datafile import field_problem
from engine.settings import RULES
from tests.engine.helpers import painting, photo


@pytest.fixture
def inputs(tmp_path):
    content, style = tmp_path / "photo.png", tmp_path / "painting.png"
    photo().save(content)
    painting().save(style)
    return [str(content), str(style)]


BAD = [
    (["--style-weight", "nan"], "--style-weight must be a finite number"),
    (["--style-weight", "inf"], "--style-weight must be a finite number"),
    (["--style-weight", "1e300"], "--style-weight must be a finite number"),
    (["--content-weight=-inf"], "--content-weight must be"),
    (["--tv-weight", "nan"], "--tv-weight must be"),
    (["--style-layer-weights", "relu1_1=nan"], "--style-layer-weights items must be"),
    (["--learning-rate", "inf"], "--learning-rate must be"),
    (["--learning-rate", "0"], "--learning-rate must be"),
    (["--style-scale", "nan"], "--style-scale must be"),
    (["--scales", "inf"], "--scales: 'inf' is not a whole number"),
    (["--scales", "nan"], "--scales: 'nan' is not a whole number"),
    (["--scales", "64,32"], "--scales must rise to the size (32 px)"),
    (["--size", "128", "--scales", "32,64"], "--scales must rise to the size (128 px)"),
    (["--seed", "99999999999999999999999"], "--seed must be a whole number from 0"),
    (["--steps=-3"], "--steps must be a whole number from 0"),
    (["--size", "x"], "argument --size: invalid int value"),
]


@pytest.mark.parametrize(("flags", "expected"), BAD, ids=[" ".join(f) for f, _ in BAD])
def test_a_bad_number_is_refused_in_one_line_naming_its_flag(tmp_path, inputs, capsys, flags,
                                                             expected):  # fmt: skip
    out = tmp_path / "out.png"
    assert main(["stylize", *inputs, "-o", str(out), "--weights", "unused.pth", *flags]) == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and expected in error, error
    assert "Traceback" not in error and not out.exists()


def test_style_blend_of_nan_is_refused(tmp_path, inputs, capsys):
    argv = ["stylize", *inputs, inputs[1], "-o", str(tmp_path / "o.png"), "--style-blend", "nan,1"]
    assert main(argv) == 2
    assert "--style-blend items must be a finite number" in capsys.readouterr().err


def test_a_bad_argument_is_one_line_with_a_pointer_to_help(capsys):
    assert main(["stylize", "--no-such-flag"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--help" in error[0] and "usage:" not in error[0]
    assert main(["frobnicate"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_scales_alone_set_the_size():
    args = build_parser().parse_args(["stylize", "a", "b", "-o", "o.png", "--scales", "32,64"])
    assert _settings_from_args(args).size == 64


number_text = (
    st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.sampled_from(["nan", "-nan", "inf", "1e308", "1e-320", "0", "-0", "1_000", " 3 ", "0x10"])
)
FLAGS = {"--style-weight": "style_weight", "--content-weight": "content_weight",
         "--tv-weight": "tv_weight", "--learning-rate": "learning_rate",
         "--style-scale": "style_scale", "--seed": "seed", "--steps": "steps",
         "--size": "size"}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(flag=st.sampled_from(sorted(FLAGS)), value=number_text)
def test_any_number_for_any_flag_is_used_as_given_or_refused_naming_the_flag(flag, value):
    argv = ["stylize", "a.png", "b.png", "-o", "o.png", f"{flag}={value}"]
    try:
        settings_ = _settings_from_args(build_parser().parse_args(argv))
    except UsageError as error:
        assert flag in str(error) and "\n" not in str(error)
        return
    field = FLAGS[flag]
    got = getattr(settings_, field)
    assert field_problem(got, RULES[field]) is None
    assert not isinstance(got, float) or math.isfinite(got)
