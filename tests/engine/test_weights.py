"""The weights manager against a real HTTP server on 127.0.0.1; nothing leaves the machine."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import torch

from engine import catalogue, paths, weights_store
from engine.vgg import WeightsError, expected_shapes
from engine.weights_download import DownloadCancelled, download
from tests.engine.helpers import fill_the_disk
from tests.http_server import serving

WEIGHTS_PATH = "/vgg19-test.pth"


# --- fixtures --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GeneratedFile:
    path: Path
    sha256: str
    size: int


@pytest.fixture(scope="session")
def generated(tmp_path_factory, random_network) -> GeneratedFile:
    """A VGG19 checkpoint with torchvision's key layout: real features, a token classifier."""
    state = dict(random_network.state_dict)
    state["classifier.0.weight"] = torch.randn(64, 64)  # extraction must leave this behind
    state["classifier.0.bias"] = torch.randn(64)
    path = tmp_path_factory.mktemp("generated") / "vgg19-generated.pth"
    torch.save(state, path)
    data = path.read_bytes()
    return GeneratedFile(path, hashlib.sha256(data).hexdigest(), len(data))


@pytest.fixture(scope="session")
def installed_template(tmp_path_factory, generated) -> Path:
    """A models folder holding vgg19 imported from the generated file (made once, then copied)."""
    folder = tmp_path_factory.mktemp("installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(paths.MODELS_DIR_ENV, str(folder))
        weights_store.import_file(generated.path)
    return folder


def install_copy(template: Path, folder: Path) -> weights_store.InstalledModel:
    shutil.copytree(template, folder, dirs_exist_ok=True)
    return weights_store.find_installed("vgg19")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own models folders and torch cache, and no proxy."""
    monkeypatch.setenv(paths.MODELS_DIR_ENV, str(tmp_path / "models"))
    monkeypatch.setenv(paths.BUNDLED_MODELS_DIR_ENV, str(tmp_path / "bundled"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def spec(generated) -> catalogue.ModelSpec:
    """The vgg19 catalogue entry, but with the generated file's hash prefix."""
    return dataclasses.replace(catalogue.model_spec("vgg19"), sha256_prefix=generated.sha256[:8])


@pytest.fixture
def server(generated):
    with serving({WEIGHTS_PATH: generated.path.read_bytes()}) as httpd:
        yield httpd


def url_of(server, path: str = WEIGHTS_PATH) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def installed_files() -> list[str]:
    folder = paths.models_folder()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- catalogue and folders -------------------------------------------------------------------


def test_catalogue_lists_the_four_known_models():
    models = {spec.name: spec for spec in catalogue.known_models()}
    assert set(models) == {"vgg19", "vgg16", "vgg19-caffe", "vgg16-caffe"}
    assert catalogue.default_model_name() == "vgg19"
    assert models["vgg19"].url == "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
    assert models["vgg19-caffe"].preprocessing == "caffe"
    for spec in models.values():
        # torch.hub convention: the file name carries the start of its SHA-256.
        assert spec.url.startswith("https://")
        assert spec.filename.endswith(f"-{spec.sha256_prefix}.pth")
        # Lower-case hex, as hashlib's hexdigest() spells a hash: in any other spelling the
        # prefix would match no file, and every download of the model would be refused.
        assert re.fullmatch(r"[0-9a-f]{8,64}", spec.sha256_prefix)
        published = spec.sha256 or spec.sha256_prefix.ljust(64, "0")
        other = format(int(published[0], 16) ^ 1, "x") + published[1:]
        assert spec.matches(published) and not spec.matches(other)
        assert spec.download_size > 500 * 2**20
        assert spec.arch in ("vgg19", "vgg16") and spec.preprocessing in ("torchvision", "caffe")


def test_unknown_model_name_is_refused():
    with pytest.raises(WeightsError, match="unknown model 'vgg11'.*vgg19"):
        weights_store.find_installed("vgg11")


def test_lookup_prefers_the_models_folder_over_the_bundled_one(installed_template, tmp_path):
    assert weights_store.search_folders() == [tmp_path / "models", tmp_path / "bundled"]
    assert weights_store.find_installed("vgg19") is None
    install_copy(installed_template, tmp_path / "bundled")
    assert weights_store.find_installed("vgg19").path == tmp_path / "bundled" / "vgg19.pth"
    install_copy(installed_template, tmp_path / "models")
    assert weights_store.find_installed("vgg19").path == tmp_path / "models" / "vgg19.pth"


def test_a_file_without_its_manifest_is_not_installed(installed_template, tmp_path):
    install_copy(installed_template, tmp_path / "models")
    (tmp_path / "models" / "vgg19.json").unlink()
    assert weights_store.find_installed("vgg19") is None


def test_not_installed_message_says_how_to_get_it():
    with pytest.raises(WeightsError) as raised:
        weights_store.load_installed("vgg19")
    message = str(raised.value)
    assert "python main.py weights download vgg19" in message
    assert "python main.py weights import FILE --as vgg19" in message
    assert "\n" not in message


# --- download --------------------------------------------------------------------------------


def test_full_download_installs_only_the_features(server, spec, generated):
    reports = []
    installed = download("vgg19", progress=reports.append, url=url_of(server), spec=spec)

    assert installed_files() == ["vgg19.json", "vgg19.pth"]
    assert installed.path == paths.models_folder() / "vgg19.pth"
    assert installed.size < generated.size  # the classifier was left behind
    manifest = json.loads(installed.manifest_path.read_text())
    assert manifest["sha256"] == hashlib.sha256(installed.path.read_bytes()).hexdigest()
    assert manifest["source_sha256"] == generated.sha256
    assert (manifest["arch"], manifest["preprocessing"]) == ("vgg19", "torchvision")

    done = [report.bytes_done for report in reports]
    assert done == sorted(done) and done[-1] == generated.size
    assert reports[-1].bytes_total == generated.size and reports[-1].fraction == 1.0
    assert all(report.bytes_per_second > 0 for report in reports)

    state, loaded_spec = weights_store.load_installed("vgg19")
    assert loaded_spec.name == "vgg19"
    assert set(state) == set(expected_shapes("vgg19"))
    reference = torch.load(generated.path, weights_only=True)
    assert torch.equal(state["features.34.weight"], reference["features.34.weight"])


def test_download_retries_and_resumes_after_the_connection_drops_halfway(server, spec, generated):
    server.site.failures[WEIGHTS_PATH] = [503]  # a passing server error first
    server.site.drop_once.add(WEIGHTS_PATH)
    download("vgg19", url=url_of(server), spec=spec, retry_delays=(0, 0))

    refused, dropped, resumed = server.site.requests
    assert refused == dropped == (WEIGHTS_PATH, None)
    resumed_at = int(resumed[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < generated.size
    assert weights_store.verify("vgg19").source_sha256 == generated.sha256


def test_cancel_leaves_no_installed_file_and_a_later_download_resumes(server, spec, generated):
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled, match="cancelled"):
        download("vgg19", lambda _: cancel.set(), cancel, url_of(server), spec=spec)

    assert weights_store.find_installed("vgg19") is None
    (part,) = installed_files()
    assert part.endswith(".part")  # nothing that looks complete
    kept = (paths.models_folder() / part).stat().st_size
    assert 0 < kept < generated.size

    download("vgg19", url=url_of(server), spec=spec)
    assert server.site.requests[-1] == (WEIGHTS_PATH, f"bytes={kept}-")
    assert installed_files() == ["vgg19.json", "vgg19.pth"]


def test_a_complete_part_file_is_checked_without_downloading_again(server, spec, generated):
    folder = paths.models_folder()
    folder.mkdir(parents=True)
    (folder / f"{spec.filename}.part").write_bytes(generated.path.read_bytes())
    wrong = dataclasses.replace(spec, sha256_prefix="00000000")  # stop before the (slow) install
    with pytest.raises(WeightsError, match="checksum mismatch"):
        download("vgg19", url=url_of(server), spec=wrong)
    assert server.site.requests == [(WEIGHTS_PATH, f"bytes={generated.size}-")]  # answered 416
    assert installed_files() == []


def test_wrong_checksum_is_refused_and_nothing_is_installed(server, spec):
    wrong = dataclasses.replace(spec, sha256_prefix="00000000")
    with pytest.raises(WeightsError, match="checksum mismatch.*expected 00000000"):
        download("vgg19", url=url_of(server), spec=wrong)
    assert installed_files() == []


def test_a_download_onto_a_full_disk_leaves_the_installed_model_working(
    server, spec, installed_template, monkeypatch
):
    before = install_copy(installed_template, paths.models_folder())
    fill_the_disk(monkeypatch)
    with pytest.raises(weights_store.InstallError, match="the disk is full"):
        download("vgg19", url=url_of(server), spec=spec)
    assert weights_store.verify("vgg19").sha256 == before.sha256
    # The checked download stays, so trying again needs no network.
    assert installed_files() == [f"{spec.filename}.part", "vgg19.json", "vgg19.pth"]


def test_not_found_fails_at_once(server, spec):
    with pytest.raises(WeightsError, match="HTTP 404"):
        download("vgg19", url=url_of(server, "/missing.pth"), spec=spec)
    assert len(server.site.requests) == 1  # a 404 is not retried
    assert installed_files() == []


def test_server_error_is_retried_then_reported(server, spec):
    server.site.failures[WEIGHTS_PATH] = [500] * 10
    with pytest.raises(WeightsError, match="HTTP 500.*run it again"):
        download("vgg19", url=url_of(server), spec=spec, retry_delays=(0, 0))
    assert len(server.site.requests) == 3
    assert installed_files() == []


def test_connection_refused_is_reported(spec):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WeightsError, match="download failed"):
        download("vgg19", url=f"http://127.0.0.1:{port}/x.pth", spec=spec, retry_delays=())
    assert installed_files() == []


def test_an_unusable_models_folder_is_reported(spec, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(paths.MODELS_DIR_ENV, str(tmp_path / "a-file" / "models"))
    with pytest.raises(WeightsError, match="a-file/models: "):
        download("vgg19", url="http://127.0.0.1:9/never-fetched.pth", spec=spec)


# --- import ----------------------------------------------------------------------------------


def test_import_of_a_good_file_works_offline(generated, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert weights_store.find_cached_torchvision_files() == []
    installed = weights_store.import_file(generated.path)
    assert installed.spec.name == "vgg19"  # the keys say VGG19; the hash is not a published one
    assert not installed.is_published_file
    assert installed.source == str(generated.path)
    assert installed.source_sha256 == generated.sha256
    assert installed.sha256 == hashlib.sha256(installed.path.read_bytes()).hexdigest()
    assert installed_files() == ["vgg19.json", "vgg19.pth"]
    assert installed.size < generated.size  # the classifier was left behind
    state, spec = weights_store.load_installed("vgg19")
    assert set(state) == set(expected_shapes("vgg19")) and spec.preprocessing == "torchvision"


def folder_contents() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in paths.models_folder().iterdir()}


def test_an_import_onto_a_full_disk_leaves_the_installed_model_working(
    installed_template, generated, monkeypatch
):
    before = install_copy(installed_template, paths.models_folder())
    files = folder_contents()
    fill_the_disk(monkeypatch)
    with pytest.raises(WeightsError, match="could not install vgg19 .the disk is full.*unchanged"):
        weights_store.import_file(generated.path, "vgg19")
    assert folder_contents() == files  # the old model untouched, no temporary file left
    assert weights_store.verify("vgg19").sha256 == before.sha256


def test_import_of_a_missing_file():
    with pytest.raises(WeightsError, match="nowhere.pth: file not found"):
        weights_store.import_file("/nowhere.pth")


def test_import_of_a_file_with_a_wrong_shape(generated, tmp_path):
    state = torch.load(generated.path, weights_only=True)
    state["features.10.weight"] = torch.zeros(256, 128, 3, 1)
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(
        WeightsError, match=r"bad.pth: features.10.weight has shape \(256, 128, 3, 1\)"
    ):
        weights_store.import_file(bad)
    assert installed_files() == []


class RunsCode:
    """Unpickling this calls os.mkdir(marker): a stand-in for any code a file could run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def write_malicious(path: Path, marker: Path, zipped: bool) -> None:
    if zipped:  # the format torch.save writes
        torch.save({"features.0.weight": RunsCode(marker)}, path)
    else:  # a bare pickle
        path.write_bytes(pickle.dumps({"features.0.weight": RunsCode(marker)}, protocol=2))


@pytest.mark.parametrize("zipped", [True, False], ids=["torch-zip", "bare-pickle"])
def test_import_of_a_pickle_that_would_run_code_refuses_and_runs_nothing(tmp_path, zipped):
    evil = tmp_path / "evil.pth"
    write_malicious(evil, tmp_path / "pwned", zipped)
    for name in ("vgg19", None):
        with pytest.raises(WeightsError, match="evil.pth: (refused|not a PyTorch weights file)"):
            weights_store.import_file(evil, name)
    assert not (tmp_path / "pwned").exists()
    assert installed_files() == []

    # The payload is live: an unsafe load would have run it.
    write_malicious(evil, tmp_path / "control", zipped)
    with open(evil, "rb") as file:
        torch.load(file, weights_only=False) if zipped else pickle.load(file)
    assert (tmp_path / "control").is_dir()


def test_import_refuses_a_published_file_under_the_wrong_name(generated, monkeypatch):
    shipped = catalogue._catalogue()
    models = tuple(
        dataclasses.replace(s, sha256_prefix=generated.sha256[:8]) if s.name == "vgg19-caffe" else s
        for s in shipped.models
    )
    monkeypatch.setattr(
        catalogue, "_catalogue", lambda: dataclasses.replace(shipped, models=models)
    )
    with pytest.raises(
        WeightsError, match="published vgg19-d01eb7cb.pth.*import it as vgg19-caffe"
    ):
        weights_store.import_file(generated.path, "vgg19")
    installed = weights_store.import_file(generated.path)  # recognised by its hash
    assert installed.spec.name == "vgg19-caffe" and installed.is_published_file


def test_torchvision_cache_files_are_found(generated, tmp_path):
    assert weights_store.find_cached_torchvision_files() == []
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    cached = checkpoints / "vgg19-dcbb9e9d.pth"
    cached.write_bytes(generated.path.read_bytes())
    assert weights_store.find_cached_torchvision_files() == [
        (catalogue.model_spec("vgg19"), cached)
    ]


# --- verification ----------------------------------------------------------------------------


def test_a_tampered_file_is_refused(installed_template, tmp_path):
    installed = install_copy(installed_template, tmp_path / "models")
    data = bytearray(installed.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    installed.path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="vgg19.pth: SHA-256 .* differs from its manifest"):
        weights_store.load_installed("vgg19")
    with pytest.raises(WeightsError, match="damaged"):
        weights_store.verify("vgg19")


def test_a_replaced_file_is_never_executed_even_with_a_matching_manifest(
    installed_template, tmp_path
):
    installed = install_copy(installed_template, tmp_path / "models")
    write_malicious(installed.path, tmp_path / "pwned", zipped=True)
    with pytest.raises(WeightsError, match="differs from its manifest"):
        weights_store.load_installed("vgg19")

    manifest = json.loads(installed.manifest_path.read_text())
    manifest["sha256"] = hashlib.sha256(installed.path.read_bytes()).hexdigest()
    manifest["size"] = installed.path.stat().st_size
    installed.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="vgg19.pth: refused"):
        weights_store.load_installed("vgg19")
    assert not (tmp_path / "pwned").exists()


def test_a_broken_manifest_is_reported(installed_template, tmp_path):
    installed = install_copy(installed_template, tmp_path / "models")
    installed.manifest_path.write_text("{not json")
    with pytest.raises(WeightsError, match="vgg19.json: unreadable manifest"):
        weights_store.find_installed("vgg19")


# --- a download that trickles (issue 28, item 7) ----------------------------------------------


@pytest.mark.parametrize(
    ("limits", "message"),
    [({"min_rate": 200 * 1024, "rate_window": 0.5}, "too slow (under 200 KiB/s for 0.5 s)"),
     ({"time_limit": 1.0}, "taking too long (over 1 s)")],
)  # fmt: skip
def test_a_download_that_trickles_stops_with_a_message_and_keeps_its_part(server, spec, limits,
                                                                          message):  # fmt: skip
    # 64 KiB every 0.4 s (160 KiB/s): no socket timeout ever fires, and it is far from done.
    server.site.trickle[WEIGHTS_PATH] = 0.4
    started = time.monotonic()
    with pytest.raises(WeightsError, match=re.escape(message)) as error:
        download("vgg19", url=url_of(server), spec=spec, retry_delays=(), **limits)
    assert time.monotonic() - started < 5
    assert "run it again to resume" in str(error.value)
    (part,) = installed_files()
    assert part.endswith(".part") and weights_store.find_installed("vgg19") is None
