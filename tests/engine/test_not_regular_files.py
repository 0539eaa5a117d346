"""A FIFO (or a device) given where a file belongs: every file Impasto opens is refused
unless it is a regular file (engine.files.open_regular), so nothing waits for a writer that
never comes. Each FIFO unblocks itself after a while (tests.engine.helpers.fifo): a
regression fails here instead of hanging."""

import json

import pytest

from engine.cli import main
from engine.session import Session, SessionError, load_session, save_session
from engine.settings import RunSettings
from tests.engine.helpers import fifo, painting, photo


@pytest.fixture
def inputs(tmp_path):
    photo().save(tmp_path / "photo.png")
    painting().save(tmp_path / "painting.png")
    mask = photo().convert("L").point(lambda v: 255 if v > 120 else 0)
    mask.save(tmp_path / "mask.png")
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        lambda t: ["photo.png", "--region", f"{t / 'fifo.png'}=painting.png"],
        lambda t: ["photo.png", "--region", f"mask.png=painting.png@{t / 'fifo.png'}"],
        lambda t: ["photo.png", "painting.png", "--keep", t / "fifo.png"],
        lambda t: ["photo.png", "painting.png", "--preset", t / "fifo.png"],
        lambda t: [t / "fifo.png", "painting.png"],
        lambda t: ["photo.png", "painting.png", "--init", t / "fifo.png"],
    ],
    ids=["region mask", "painting mask", "keep mask", "preset", "photo", "init image"],
)
def test_a_fifo_given_to_stylize_is_refused_at_once(inputs, monkeypatch, capsys,
                                                    random_weights_file, args):  # fmt: skip
    monkeypatch.chdir(inputs)
    with fifo(inputs / "fifo.png"):
        argv = ["stylize", *map(str, args(inputs)), "-o", "out.png", "--weights",
                random_weights_file, "--steps", "1", "--size", "32"]  # fmt: skip
        assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "fifo.png" in lines[0] and "not a regular file" in lines[0], lines


def test_a_fifo_in_a_session_folder_is_refused(tmp_path):
    folder = tmp_path / "session"
    save_session(Session(RunSettings(), photo(), [painting()]), folder)
    (folder / "content.png").unlink()
    with fifo(folder / "content.png"), pytest.raises(SessionError, match="not a regular file"):
        load_session(folder)


def test_a_fifo_as_a_batch_input_is_refused(inputs, capsys, random_weights_file):
    spec = inputs / "spec.json"
    spec.write_text(json.dumps({"content": "photo.png", "styles": ["fifo.png"],
                                "weights": random_weights_file}))  # fmt: skip
    with fifo(inputs / "fifo.png"):
        assert main(["batch", str(spec), "-o", str(inputs / "out")]) == 2
    assert "fifo.png: not a regular file" in capsys.readouterr().err
