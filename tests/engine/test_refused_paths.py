"""Paths the OS refuses (a name over NAME_MAX, a 5000-character path, a loop of links), a
URL that is none, a batch setting that does not exist: each is one line and exit 2 before
anything runs, never a traceback (issue 28, items 9, 11, 13, 15)."""

import dataclasses
import io
import json
from pathlib import Path

import pytest

from engine import catalogue, paths, weights_download
from engine.cli import main
from engine.vgg import WeightsError
from engine.weights_cli import ProgressBar
from tests.engine.helpers import painting, photo

LONG_NAME = "n" * 300 + ".png"  # over NAME_MAX (255 bytes)
LONG_PATH = "/".join(["d" * 200] * 25) + "/x.png"  # over PATH_MAX (4096)


@pytest.fixture
def here(tmp_path, monkeypatch):
    photo().save(tmp_path / "photo.png")
    painting().save(tmp_path / "painting.png")
    (tmp_path / "loop-a.png").symlink_to(tmp_path / "loop-b.png")
    (tmp_path / "loop-b.png").symlink_to(tmp_path / "loop-a.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(paths.MODELS_DIR_ENV, str(tmp_path / "models"))
    return tmp_path


def one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def says_why(line: str) -> bool:
    return "too long" in line or "a loop of symbolic links" in line


@pytest.mark.parametrize("bad", [LONG_NAME, LONG_PATH, "loop-a.png"], ids=["name", "path", "loop"])
@pytest.mark.parametrize("where", ["photo", "painting", "-o"])
def test_a_path_the_os_refuses_is_one_line_in_stylize(here, capsys, random_weights_file, bad,
                                                      where):  # fmt: skip
    files = {"photo": "photo.png", "painting": "painting.png", "-o": "out.png", where: bad}
    argv = ["stylize", files["photo"], files["painting"], "-o", files["-o"],
            "--weights", random_weights_file, "--steps", "1", "--size", "32"]  # fmt: skip
    assert main(argv) == 2
    assert says_why(one_line(capsys))
    assert not (here / "out.png").exists()


@pytest.mark.parametrize("bad", [LONG_NAME, "loop-a.png"], ids=["name", "loop"])
def test_a_path_the_os_refuses_is_one_line_in_a_batch_and_a_weights_import(here, capsys, bad):
    (here / "spec.json").write_text(json.dumps({"content": bad, "styles": ["painting.png"]}))
    assert main(["batch", "spec.json", "-o", "out"]) == 2
    assert says_why(one_line(capsys))
    assert main(["batch", "spec.json", "-o", LONG_PATH]) == 2
    assert says_why(one_line(capsys))
    assert main(["weights", "import", bad]) == 2
    assert says_why(one_line(capsys))


def test_a_batch_setting_that_does_not_exist_is_refused_before_any_run(here, capsys):
    (here / "spec.json").write_text(json.dumps({"content": "photo.png", "styles": "painting.png",
                                                "preprocessing": "foo"}))  # fmt: skip
    assert main(["batch", "spec.json", "-o", "out"]) == 2
    assert "preprocessing must be one of torchvision, caffe, not 'foo'" in one_line(capsys)
    assert not (here / "out").exists()


def test_not_a_url_is_one_line(here, capsys):
    assert main(["weights", "download", "--url", "not a url"]) == 2
    assert "not a url: not a URL to download from" in one_line(capsys)


def test_a_download_of_dev_zero_redraws_one_progress_line(here):
    # /dev/zero says its size is 0 and never ends: the line was forced on every chunk
    # (549 lines), as if each were the last.
    spec = dataclasses.replace(catalogue.model_spec("vgg19"), download_size=64 * 2**20,
                               size_is_exact=True)  # fmt: skip
    stream = io.StringIO()
    with pytest.raises(WeightsError, match="sent more than"):
        weights_download.download("vgg19", ProgressBar("vgg19", stream), url="file:///dev/zero",
                                  spec=spec, retry_delays=())  # fmt: skip
    assert "\n" not in stream.getvalue() and stream.getvalue().count("\r") < 20
    assert list(Path(here / "models").iterdir()) == []
