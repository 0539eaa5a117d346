"""kill -9 in the middle of `weights import` over an installed model (issue 28, items 3 and
14): the store's next start has one whole model, the old or the new, and no temporary
files; it never says the model is not installed while both files are on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine import paths, weights_store

ROOT = Path(__file__).resolve().parents[2]
# Imports FILE as vgg19 and kills itself (SIGKILL: no finally, no cleanup) at the Nth call
# of WHAT on a path in the models folder.
KILLER = """
import os, signal, sys
from engine import weights_store
file, what, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
models = os.environ["IMPASTO_MODELS_DIR"]
real, calls = getattr(os, what), []
def killing(*args):
    where = args[1] if what == "replace" else os.readlink(f"/proc/self/fd/{args[0]}")
    if str(where).startswith(models):
        calls.append(where)
        if len(calls) == nth:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(*args)
setattr(os, what, killing)
weights_store.import_file(file, "vgg19")
"""


@pytest.fixture
def store(tmp_path, monkeypatch, random_weights_file):
    monkeypatch.setenv(paths.MODELS_DIR_ENV, str(tmp_path / "models"))
    monkeypatch.setenv(paths.BUNDLED_MODELS_DIR_ENV, str(tmp_path / "bundled"))
    old = weights_store.import_file(random_weights_file, "vgg19")
    state = torch.load(random_weights_file, weights_only=True)
    state["features.0.bias"] = state["features.0.bias"] + 1  # another copy: another hash
    new_file = tmp_path / "new.pth"
    torch.save(state, new_file)
    return old, new_file


def kill_import_at(new_file: Path, what: str, nth: int) -> None:
    argv = [sys.executable, "-c", KILLER, str(new_file), what, str(nth)]
    done = subprocess.run(argv, cwd=ROOT, env=dict(os.environ), capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()[-2000:]


@pytest.mark.parametrize(
    ("what", "nth", "kept"),
    [("fsync", 1, "old"), ("replace", 1, "new"), ("replace", 2, "new")],
    ids=["writing the new file", "at the first rename", "at the second rename"],
)
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc (Linux)")
def test_a_killed_import_leaves_one_whole_model_and_no_temporary_files(store, what, nth, kept):
    old, new_file = store
    kill_import_at(new_file, what, nth)
    installed = weights_store.find_installed("vgg19")
    assert installed is not None, "the model looked uninstalled after the kill"
    verified = weights_store.verify("vgg19")
    assert verified.source == (str(new_file.resolve()) if kept == "new" else old.source)
    assert sorted(p.name for p in paths.models_folder().iterdir()) == ["vgg19.json", "vgg19.pth"]
