"""Which catalogue model runs: installed models, the pick, and importing as a named model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine import catalogue, paths, weights_store
from engine.model_choice import import_as, model_choices, pick_model
from engine.vgg import WeightsError, random_state_dict


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.MODELS_DIR_ENV, str(tmp_path / "models"))
    monkeypatch.setenv(paths.BUNDLED_MODELS_DIR_ENV, str(tmp_path / "bundled"))


@pytest.fixture(scope="module")
def vgg16_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vgg16") / "my-vgg16.pth"
    torch.save(random_state_dict("vgg16"), path)
    return path


def installed() -> list[str]:
    return [choice.name for choice in model_choices() if choice.installed]


def test_nothing_installed_picks_nothing():
    choices = model_choices()
    assert [c.name for c in choices] == [s.name for s in catalogue.known_models()]
    assert all(not c.installed and c.problem == "not installed" for c in choices)
    assert pick_model(choices) is None


def test_the_pick_is_the_remembered_model_else_the_default_else_the_first_installed(
    vgg16_file, random_weights_file
):
    import_as(vgg16_file, "vgg16-caffe")
    assert installed() == ["vgg16-caffe"]
    assert pick_model(model_choices(), remembered="vgg19") == "vgg16-caffe"  # not installed
    import_as(vgg16_file, "vgg16")
    assert pick_model(model_choices()) == "vgg16"  # the first installed, in catalogue order
    import_as(random_weights_file, "vgg19")
    assert pick_model(model_choices()) == "vgg19"  # the catalogue default
    assert pick_model(model_choices(), remembered="vgg16-caffe") == "vgg16-caffe"


def test_a_damaged_manifest_is_listed_as_unusable(vgg16_file):
    import_as(vgg16_file, "vgg16")
    (paths.models_folder() / "vgg16.json").write_text("{ not json")
    choice = next(c for c in model_choices() if c.name == "vgg16")
    assert not choice.installed and "unreadable manifest" in choice.problem


def test_a_vgg16_file_as_vgg19_is_refused_naming_the_models_it_fits(vgg16_file):
    with pytest.raises(WeightsError) as refused:
        import_as(vgg16_file, "vgg19")
    message = str(refused.value)
    assert message.startswith(f"{vgg16_file}: the file holds a VGG16")
    assert "vgg19 (VGG19, torchvision IMAGENET1K_V1) is a VGG19" in message
    assert message.endswith("import it as one of: vgg16, vgg16-caffe")
    assert installed() == []


def test_a_file_that_is_no_vgg_at_all_keeps_the_shape_detail(tmp_path):
    bad = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, bad)
    with pytest.raises(WeightsError, match="missing key features.0.weight.*does not fit vgg16"):
        import_as(bad, "vgg16")


def test_vgg16_caffe_is_in_the_catalogue():
    spec = catalogue.model_spec("vgg16-caffe")
    assert (spec.arch, spec.preprocessing) == ("vgg16", "caffe")
    assert spec.filename == "vgg16-00b39a1b.pth" and spec.sha256_prefix == "00b39a1b"
    assert not spec.size_is_exact and spec.download_size == 553436134


@pytest.mark.trained
def test_the_trained_keras_vgg16_imports_as_vgg16_caffe():
    trained_vgg = pytest.importorskip("tests.trained_vgg")
    try:
        path = trained_vgg.trained_vgg16_path()
    except trained_vgg.TrainedWeightsUnavailable as error:
        pytest.skip(str(error))
    model = import_as(path, "vgg16-caffe")
    assert model.spec.name == "vgg16-caffe" and not model.is_published_file
    state, spec = weights_store.load_installed("vgg16-caffe")
    assert (spec.arch, spec.preprocessing) == ("vgg16", "caffe")
    assert len(state) == 26  # 13 convolutions, weight and bias
