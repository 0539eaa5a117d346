import json

import pytest

from engine.settings import RunSettings


def test_json_round_trip_keeps_every_field():
    settings = RunSettings(style_blend=(1.0, 3.0), scales=(256, 512), preserve_colors=True)
    assert RunSettings.from_dict(json.loads(settings.to_json())) == settings


def test_unknown_keys_are_ignored_and_bad_values_refused():
    assert RunSettings.from_dict({"steps": 10, "from_the_future": 1}).steps == 10
    with pytest.raises(ValueError, match="style_weight must be a finite number from 0"):
        RunSettings.from_dict({"style_weight": -1})
    with pytest.raises(ValueError):
        RunSettings.from_dict(["not", "an", "object"])


def test_defaults_are_the_published_ones():
    settings = RunSettings()
    assert settings.content_layers == ("relu4_2",)
    assert settings.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    assert settings.optimizer == "lbfgs" and settings.lr == 1.0
    assert settings.replace(optimizer="adam").lr == 0.02


def test_layers_are_checked_against_the_model():
    RunSettings(model="vgg16", content_layers=("relu4_2",))
    with pytest.raises(ValueError, match="unknown layer relu5_4 for vgg16"):
        RunSettings(model="vgg16", style_layers=("relu5_4",), style_layer_weights=(1.0,))


def test_loss_weights_saved_before_the_relative_losses_are_dropped():
    # Version 1 weights (style 1e6) were for unnormalised losses; today they would drown
    # the photo. Other fields of such a file are kept.
    old = RunSettings.from_dict({"version": 1, "style_weight": 1e6, "steps": 77})
    assert old.style_weight == RunSettings().style_weight and old.steps == 77
    new = RunSettings.from_dict(RunSettings(style_weight=12.0).to_dict())
    assert new.style_weight == 12.0
