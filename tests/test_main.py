"""`main.py`: no arguments open the window; anything else is a command, and a mistyped one
is a one-line error (exit 2), never the window or Qt's abort without a display."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import main as entry
from engine.version import __version__

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_window(monkeypatch):
    import gui.app

    monkeypatch.setattr(gui.app, "run_app", lambda *a, **k: pytest.fail("the window opened"))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["stylise", "c.png"], "invalid choice: 'stylise'"),
        (["--quiet", "stylize", "c.png", "s.png", "-o", "o.png"],
         "--quiet goes after the command: `impasto stylize --quiet ...`"),
        (["c.png"], "invalid choice: 'c.png'"),
        (["-style", "fusion"], "invalid choice: 'fusion'"),
    ],
)
def test_a_mistyped_command_is_one_line_and_exit_2(argv, expected, no_window, capsys):
    assert entry.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_version_prints_the_version(no_window, capsys):
    with pytest.raises(SystemExit) as exit_:
        entry.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"impasto {__version__}"


def test_without_a_display_a_flag_before_the_command_is_an_error_not_an_abort(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}  # fmt: skip
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--quiet", "stylize", "c.png"],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == ("impasto: error: --quiet goes after the command: "
                                   "`impasto stylize --quiet ...`")  # fmt: skip
