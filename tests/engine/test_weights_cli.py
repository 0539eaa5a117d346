"""`python main.py weights list|download|import|verify`, run in-process; no network is used."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest
import torch

from engine import catalogue, paths, weights_cli, weights_download, weights_store
from engine.weights_cli import add_weights_commands, format_progress
from engine.weights_download import ProgressInfo
from tests.engine.helpers import fill_the_disk


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.MODELS_DIR_ENV, str(tmp_path / "models"))
    monkeypatch.setenv(paths.BUNDLED_MODELS_DIR_ENV, str(tmp_path / "bundled"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(weights_download, "RETRY_DELAYS", ())


@pytest.fixture
def catalogue_knows(monkeypatch):
    """Make the vgg19 catalogue entry publish the hash of a given file."""

    def patch(path: str | Path) -> None:
        prefix = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:8]
        shipped = catalogue._catalogue()
        models = tuple(
            dataclasses.replace(s, sha256_prefix=prefix) if s.name == "vgg19" else s
            for s in shipped.models
        )
        replaced = dataclasses.replace(shipped, models=models)
        monkeypatch.setattr(catalogue, "_catalogue", lambda: replaced)

    return patch


def run(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="impasto")
    add_weights_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["weights", *argv])
    code = args.handler(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_list_shows_known_models_and_folders(capsys, tmp_path):
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert f"Models folder: {tmp_path / 'models'} (from IMPASTO_MODELS_DIR)" in out
    assert f"Bundled folder: {tmp_path / 'bundled'}" in out
    assert "vgg19 (default)" in out and "vgg16" in out and "vgg19-caffe" in out
    assert "installed" not in out


def test_import_then_list_and_verify(capsys, random_weights_file, tmp_path):
    code, out, _ = run(capsys, "import", random_weights_file, "--as", "vgg19")
    stored = tmp_path / "models" / "vgg19.pth"
    assert code == 0
    assert f"Installed vgg19: {stored}" in out and "not the published file" in out

    code, out, _ = run(capsys, "list")
    assert code == 0 and "installed" in out and str(stored) in out

    code, out, _ = run(capsys, "verify")
    assert code == 0 and out.startswith("ok     vgg19:")

    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    code, out, _ = run(capsys, "verify")
    assert code == 1 and out.startswith("FAILED vgg19:") and "differs from its manifest" in out


@pytest.mark.parametrize("problem", ["missing", "wrong shape", "not torch", "vgg19 file as vgg16"])
def test_import_of_a_bad_file_exits_2_with_one_line(capsys, random_weights_file, tmp_path, problem):
    bad = tmp_path / "bad.pth"
    if problem == "wrong shape":
        state = torch.load(random_weights_file, weights_only=True)
        state["features.0.weight"] = torch.zeros(64, 3, 5, 5)
        torch.save(state, bad)
    elif problem == "not torch":
        bad.write_text("hello")
    elif problem == "vgg19 file as vgg16":
        torch.save(torch.load(random_weights_file, weights_only=True), bad)
    argv = ["import", str(bad)] + (["--as", "vgg16"] if problem == "vgg19 file as vgg16" else [])
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == "" and err.count("\n") == 1 and err.startswith(f"error: {bad}")
    assert paths.models_folder().exists() is False or not any(paths.models_folder().iterdir())


def test_import_of_a_vgg16_file_as_vgg16_caffe(capsys, tmp_path):
    from engine.vgg import random_state_dict

    file = tmp_path / "my-vgg16.pth"
    torch.save(random_state_dict("vgg16"), file)
    code, _, err = run(capsys, "import", str(file), "--as", "vgg19")
    assert code == 2 and "holds a VGG16" in err and "one of: vgg16, vgg16-caffe" in err

    code, out, _ = run(capsys, "import", str(file), "--as", "vgg16-caffe")
    assert code == 0 and out.startswith("Installed vgg16-caffe: ")
    installed = weights_store.verify("vgg16-caffe")
    assert (installed.spec.arch, installed.spec.preprocessing) == ("vgg16", "caffe")
    code, out, _ = run(capsys, "list")
    assert "vgg16-caffe" in out and str(installed.path) in out


def test_import_onto_a_full_disk_fails_in_one_line_and_keeps_the_model(
    capsys, random_weights_file, monkeypatch
):
    assert run(capsys, "import", random_weights_file, "--as", "vgg19")[0] == 0
    fill_the_disk(monkeypatch)
    code, _, err = run(capsys, "import", random_weights_file, "--as", "vgg19")
    assert code == 1  # not bad input: the disk failed
    assert len(err.strip().splitlines()) == 1 and "the disk is full" in err
    code, out, _ = run(capsys, "verify", "vgg19")
    assert code == 0 and out.startswith("ok     vgg19:")


def test_verify_with_nothing_installed_says_how_to_get_a_model(capsys):
    code, _, err = run(capsys, "verify")
    assert code == 1 and "python main.py weights download vgg19" in err


def test_download_shows_progress_and_installs(capsys, random_weights_file, catalogue_knows):
    catalogue_knows(random_weights_file)
    url = Path(random_weights_file).as_uri()  # a local mirror: nothing leaves the machine
    code, out, err = run(capsys, "download", "--url", url)
    assert code == 0, err
    assert "Installed vgg19" in out
    assert "[##############################] 100%" in err and "MiB/s" in err
    assert weights_store.verify("vgg19").source == url

    code, out, _ = run(capsys, "download", "vgg19")
    assert code == 0 and "already installed" in out


def test_download_failure_exits_1(capsys, tmp_path):
    url = (tmp_path / "missing.pth").as_uri()
    code, _, err = run(capsys, "download", "vgg16", "--url", url)
    assert code == 1 and err.startswith("error: ") and "download failed" in err
    assert weights_store.find_installed("vgg16") is None


def test_download_uses_the_torch_cache_instead_of_the_network(
    capsys, random_weights_file, tmp_path, monkeypatch
):
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    shutil.copy(random_weights_file, checkpoints / "vgg19-dcbb9e9d.pth")
    code, out, _ = run(capsys, "list")
    assert f"weights import {checkpoints / 'vgg19-dcbb9e9d.pth'}" in out

    monkeypatch.setattr(weights_cli, "download", lambda *a, **k: pytest.fail("went to the network"))
    code, out, err = run(capsys, "download")
    assert code == 0 and "from the torch cache" in err and "Installed vgg19" in out


def test_unknown_model_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        run(capsys, "download", "vgg11")
    assert exited.value.code == 2


def test_main_command_line_has_the_weights_command(capsys):
    cli = pytest.importorskip("engine.cli")
    assert cli.main(["weights", "list"]) == 0
    assert "vgg19 (default)" in capsys.readouterr().out


def test_progress_line():
    info = ProgressInfo(bytes_done=2**20, bytes_total=4 * 2**20, bytes_per_second=2**20)
    assert format_progress("vgg19", info, width=8) == "vgg19 [##......]  25% 1.0/4.0 MiB 1.0 MiB/s"
    unknown = ProgressInfo(bytes_done=3 * 2**20, bytes_total=None, bytes_per_second=0)
    assert format_progress("vgg19", unknown) == "vgg19 3.0 MiB 0.0 MiB/s"
