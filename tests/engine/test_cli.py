"""The headless command line, run in-process as `python main.py stylize ...` would."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.images import read_settings
from engine.settings import RunSettings
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.engine.helpers import fill_the_disk, painting, photo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inputs(tmp_path):
    content, style = tmp_path / "photo.png", tmp_path / "painting.jpg"
    photo().save(content)
    painting().save(style, quality=95)
    return content, style


def stylize(*args) -> list[str]:
    return ["stylize", *map(str, args), "--style-weight", str(RANDOM_NET_STYLE_WEIGHT)]


def test_stylize_end_to_end_writes_image_report_and_settings(tmp_path, inputs, random_weights_file):
    content, style = inputs
    out, report = tmp_path / "result.png", tmp_path / "report.json"
    argv = stylize(content, style, "-o", out, "--weights", random_weights_file, "--size", 64,
                   "--steps", 15, "--report", report, "--seed", 3)  # fmt: skip
    assert main(argv) == 0
    result = Image.open(out)
    assert result.size == (64, 48)
    data = json.loads(report.read_text())
    assert [s["iteration"] for s in data["steps"]] == list(range(1, 16))
    assert {"content", "style", "tv", "total", "seconds"} <= set(data["steps"][0])
    assert data["steps"][-1]["style"] < data["steps"][0]["style"]
    assert data["settings"]["size"] == 64 and data["settings"]["seed"] == 3
    assert read_settings(out)["style_weight"] == RANDOM_NET_STYLE_WEIGHT
    # The picture moved toward the painting's colours.
    mean = lambda image: np.asarray(image, dtype=float).reshape(-1, 3).mean(0)  # noqa: E731
    target = mean(painting())
    assert np.abs(mean(result) - target).sum() < np.abs(mean(photo()) - target).sum()


def test_all_documented_flags_are_accepted(tmp_path, inputs, random_weights_file):
    content, style = inputs
    out = tmp_path / "result.jpg"
    argv = stylize(content, style, style, "-o", out, "--weights", random_weights_file,
                   "--steps", 2, "--optimizer", "adam", "--content-weight", 2, "--tv-weight", 0.5,
                   "--style-layer-weights", "relu1_1=1,relu2_1=0.75", "--style-blend", "3,7",
                   "--style-scale", 0.5, "--init", "noise", "--seed", 1, "--device", "cpu",
                   "--preserve-colors", "--scales", "32,64", "--model", "vgg19",
                   "--precision", "mixed", "--quiet")  # fmt: skip
    assert main(argv) == 0
    saved = read_settings(out)
    assert saved["scales"] == [32, 64] and saved["style_blend"] == [3.0, 7.0]
    assert saved["style_layer_weights"][:2] == [1.0, 0.75]
    assert saved["precision"] == "mixed"
    assert Image.open(out).size == (64, 48)


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (lambda c, s, t: [t / "missing.jpg", s], "missing.jpg: file not found"),
        (lambda c, s, t: [c, t], "is a folder"),
        (lambda c, s, t: [c, s, "--style-blend", "1,2"], "--style-blend has 2 weights for 1"),
        (lambda c, s, t: [c, s, "--style-layer-weights", "relu9_9=1"], "--style-layer-weights"),
        (lambda c, s, t: [c, s, "--size", "5"], "size must be a whole number from 16"),
        (lambda c, s, t: [c, s, "--content-layers", "relu4_9"], "unknown layer relu4_9"),
        (lambda c, s, t: [c, s, "--init", t / "nope.png"], "nope.png: file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, inputs, random_weights_file, capsys,
                                         make_args, expected):  # fmt: skip
    content, style = inputs
    argv = ["stylize", *map(str, make_args(content, style, tmp_path)), "-o",
            str(tmp_path / "o.png"), "--weights", random_weights_file, "--steps", "1"]  # fmt: skip
    assert main(argv) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert expected in error and "Traceback" not in error
    assert not (tmp_path / "o.png").exists()


def test_thin_image_is_named_in_the_message(tmp_path, inputs, random_weights_file, capsys):
    content, _ = inputs
    thin = tmp_path / "thin.png"
    Image.new("RGB", (2, 500)).save(thin)
    argv = stylize(content, thin, "-o", tmp_path / "o.png", "--weights", random_weights_file)
    assert main(argv) == 2
    assert f"{thin}: style image 1 is too small or too thin" in capsys.readouterr().err


def test_bad_weights_file_exits_2(tmp_path, inputs, capsys):
    content, style = inputs
    fake = tmp_path / "weights.pth"
    fake.write_text("not weights")
    assert main(stylize(content, style, "-o", tmp_path / "o.png", "--weights", fake)) == 2
    assert "weights.pth: not a PyTorch weights file" in capsys.readouterr().err


def test_without_installed_weights_says_how_to_get_them(tmp_path, inputs, capsys):
    content, style = inputs
    assert main(stylize(content, style, "-o", tmp_path / "o.png")) == 2
    error = capsys.readouterr().err
    assert "python main.py weights download vgg19" in error


def test_main_py_runs_the_command_line(tmp_path, inputs):
    content, style = inputs
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "stylize", str(content)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "required" in done.stderr and "Traceback" not in done.stderr


def test_installed_caffe_model_runs_with_the_common_default_weights(tmp_path, inputs,
                                                                   random_network):  # fmt: skip
    # The losses are relative errors, so no model needs loss weights of its own.
    import torch

    from engine import weights_store

    content, style = inputs
    file = tmp_path / "caffe.pth"
    torch.save(random_network.state_dict, file)
    weights_store.import_file(file, "vgg19-caffe")
    out = tmp_path / "o.png"
    argv = ["stylize", str(content), str(style), "-o", str(out), "--model", "vgg19-caffe",
            "--steps", "1", "--size", "32", "--tv-weight", "0.5"]  # fmt: skip
    assert main(argv) == 0
    saved = read_settings(out)
    defaults = RunSettings()
    assert (saved["content_weight"], saved["style_weight"]) == (
        defaults.content_weight, defaults.style_weight)
    assert saved["tv_weight"] == 0.5  # what the user gave wins


# --- outputs checked before the run (issue 17) -----------------------------------------------


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if the run is even set up: refusals must come before the first step."""
    import engine.cli as cli

    monkeypatch.setattr(cli, "StyleTransfer", lambda *a, **k: pytest.fail("the run started"))


def links_to(target: Path, link: Path, kind: str) -> Path:
    if kind == "symlink":
        link.symlink_to(target)
    else:
        link.hardlink_to(target)
    return link


def an_image(path: Path) -> Path:
    photo(seed=7).save(path)
    return path


def a_preset(path: Path) -> Path:
    """A preset file (JSON, whatever its name says), as File ▸ Save settings as preset…
    writes one."""
    path.write_text(RunSettings(steps=2).to_json())
    return path


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (lambda c, s, w, t: ["-o", c], "would overwrite the content image"),
        (lambda c, s, w, t: ["-o", s], "would overwrite the style image 1"),
        (lambda c, s, w, t: ["-o", t / "o.png", "--report", c], "would overwrite the content"),
        (lambda c, s, w, t: ["-o", t / "o.png", "--report", w], "would overwrite the weights"),
        (lambda c, s, w, t: ["-o", links_to(c, t / "sym.png", "symlink")], "the content image"),
        (lambda c, s, w, t: ["-o", links_to(c, t / "hard.png", "hard")], "the content image"),
        (
            lambda c, s, w, t: ["-o", t / "o.png", "--report", links_to(s, t / "r", "hard")],
            "would overwrite the style image 1",
        ),
        (lambda c, s, w, t: ["-o", t / "same.png", "--report", t / "same.png"], "same file as -o"),
        (lambda c, s, w, t: ["-o", t / "o.png", "--init", an_image(t / "o.png")], "init image"),
        (lambda c, s, w, t: ["-o", a_preset(t / "p.png"), "--preset", t / "p.png"],
         "would overwrite the preset"),
        (lambda c, s, w, t: ["-o", t / "o.png", "--preset", a_preset(t / "mine.json"),
                             "--report", t / "mine.json"], "would overwrite the preset"),
    ],
)
def test_an_output_over_an_input_or_another_output_is_refused(
    tmp_path, inputs, random_weights_file, capsys, no_run, make_args, expected
):
    content, style = inputs
    weights_file = Path(random_weights_file)
    extra = make_args(content, style, weights_file, tmp_path)
    read = [content, style, weights_file, *tmp_path.glob("*.json"), *tmp_path.glob("p.png")]
    before = {p: p.read_bytes() for p in read}
    argv = ["stylize", str(content), str(style), *map(str, extra), "--weights", str(weights_file)]
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in lines[0]
    assert all(p.read_bytes() == data for p, data in before.items())  # every input intact


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (lambda t: ["-o", t / "x.xyz"], "x.xyz: unknown file type .xyz; use one of .png"),
        (lambda t: ["-o", t / "result"], "result: no file extension; use one of .png"),
        (lambda t: ["-o", t / "missing" / "o.png"], "o.png: folder"),
        (lambda t: ["-o", t / "o.png", "--report", t / "gone" / "r.json"], "r.json: folder"),
        (lambda t: ["-o", t / "o.png", "--report", t], "is a folder"),
    ],
)
def test_an_unusable_output_is_refused_before_the_run(
    tmp_path, inputs, random_weights_file, capsys, no_run, make_args, expected
):
    content, style = inputs
    argv = ["stylize", str(content), str(style), *map(str, make_args(tmp_path)),
            "--weights", random_weights_file]  # fmt: skip
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]


def test_an_unrelated_existing_output_is_replaced(tmp_path, inputs, random_weights_file):
    content, style = inputs
    out, report = tmp_path / "old.png", tmp_path / "old.json"
    painting().save(out)
    report.write_text("{}")
    argv = stylize(content, style, "-o", out, "--report", report, "--weights",
                   random_weights_file, "--steps", 1, "--size", 32, "--quiet")  # fmt: skip
    assert main(argv) == 0
    assert Image.open(out).size == (32, 24) and json.loads(report.read_text())["steps"]


def test_a_failed_report_leaves_no_temp_file_and_names_the_report(
    tmp_path, inputs, random_weights_file, capsys, monkeypatch
):
    import engine.cli as cli

    content, style = inputs
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(cli, "save_image", lambda *a, **k: None)  # the image part is not tested
    fill_the_disk(monkeypatch)
    argv = stylize(content, style, "-o", folder / "o.png", "--report", folder / "r.json",
                   "--weights", random_weights_file, "--steps", 1, "--size", 32)  # fmt: skip
    assert main(argv) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == f"impasto: {folder / 'r.json'}: could not save (the disk is full)"
    assert list(folder.iterdir()) == []  # no .r.json.tmp left behind


def install_random_vgg16_caffe(folder):
    """Import a random VGG16 as the catalogue's vgg16-caffe (the only model installed)."""
    import torch

    from engine import weights_store
    from engine.vgg import random_state_dict

    file = folder / "vgg16.pth"
    torch.save(random_state_dict("vgg16"), file)
    weights_store.import_file(file, "vgg16-caffe")


def test_every_catalogue_model_can_be_run_by_name(tmp_path, inputs):
    # The CLI's model list comes from the catalogue: a model added there (vgg16-caffe was
    # missing from a hand-written copy) is runnable once installed.
    content, style = inputs
    install_random_vgg16_caffe(tmp_path)
    out = tmp_path / "o.png"
    argv = ["stylize", str(content), str(style), "-o", str(out), "--model", "vgg16-caffe",
            "--steps", "1", "--size", "32"]  # fmt: skip
    assert main(argv) == 0
    assert read_settings(out)["model"] == "vgg16"


def test_a_network_and_its_preprocessing_find_the_installed_model(tmp_path, inputs, capsys):
    # Issue 26: with only vgg16-caffe imported, `--model vgg16 --preprocessing caffe` said
    # "no vgg16 weights installed".
    content, style = inputs
    install_random_vgg16_caffe(tmp_path)
    out = tmp_path / "o.png"
    argv = ["stylize", str(content), str(style), "-o", str(out), "--model", "vgg16",
            "--preprocessing", "caffe", "--steps", "1", "--size", "32", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    saved = read_settings(out)
    assert (saved["model"], saved["preprocessing"]) == ("vgg16", "caffe")
    # The torchvision VGG16 is not installed: said, with what is.
    argv[argv.index("--preprocessing"):argv.index("--preprocessing") + 2] = []
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "no vgg16 with torchvision preprocessing installed (installed: vgg16-caffe)" in error


# --- long names and failed saves (issue 28) --------------------------------------------------


def test_a_249_character_name_is_saved(tmp_path, inputs, random_weights_file):
    # Legal (under 255 bytes), though its temporary name once was not: the run finished,
    # then the save failed and the picture was lost.
    content, style = inputs
    out = tmp_path / ("p" * 245 + ".png")
    argv = stylize(content, style, "-o", out, "--weights", random_weights_file, "--steps", 1,
                   "--size", 32, "--quiet")  # fmt: skip
    assert main(argv) == 0
    assert Image.open(out).size == (32, 24)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([content.name, style.name,
                                                                 out.name])  # fmt: skip


def test_a_name_too_long_is_refused_before_the_run(tmp_path, inputs, random_weights_file,
                                                   capsys, no_run):  # fmt: skip
    content, style = inputs
    argv = stylize(content, style, "-o", tmp_path / ("p" * 300 + ".png"),
                   "--weights", random_weights_file)  # fmt: skip
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "the file name is too long (304 bytes" in lines[0]


def test_a_save_that_fails_keeps_the_picture_and_says_where(
    tmp_path, inputs, random_weights_file, capsys, monkeypatch
):
    import engine.cli as cli
    from engine.images import ImageError

    content, style = inputs
    out = tmp_path / "result.png"
    real_save = cli.save_image

    def save(image, path, settings=None):
        if Path(path) == out:
            raise ImageError(f"{out}: could not save (the disk is full)")
        return real_save(image, path, settings)

    monkeypatch.setattr(cli, "save_image", save)
    argv = stylize(content, style, "-o", out, "--weights", random_weights_file, "--steps", 1,
                   "--size", 32, "--quiet")  # fmt: skip
    assert main(argv) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(f"impasto: {out}: could not save (the disk is full); the picture "
                           f"is kept as {tmp_path / 'impasto-unsaved-'}")  # fmt: skip
    kept = Path(line.rpartition(" kept as ")[2])
    assert Image.open(kept).size == (32, 24) and read_settings(kept)["steps"] == 1
