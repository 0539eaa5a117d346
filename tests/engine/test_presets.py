from engine.presets import apply_preset, matching_preset, preset_names
from engine.settings import FALLING_LAYER_WEIGHTS, RunSettings


def test_defaults_are_the_quick_finish_preset_and_classic_is_neural_styles_schedule():
    assert matching_preset(RunSettings()) == "Quick finish"
    defaults = RunSettings(size=384)
    assert defaults.sizes == (384,) and defaults.settle > 0  # one size, until it settles
    assert defaults.replace(coarse_to_fine=True).sizes == (128, 181, 256, 384)  # the option
    classic = apply_preset(defaults, "Classic (Gatys)")
    assert classic.sizes == (384,) and classic.steps == 300 and classic.settle == 0


def test_each_preset_is_recognised_until_a_field_changes():
    base = RunSettings(style_weight=123.0)
    for name in preset_names():
        settings = apply_preset(base, name)
        assert matching_preset(settings) == name
        assert settings.style_weight == 123.0  # weights are not part of a preset
        assert matching_preset(settings.replace(steps=settings.steps + 1)) is None


def test_smooth_and_fast_preview_use_the_improvements():
    assert apply_preset(RunSettings(size=300), "Classic (Gatys)").size == 300
    smooth = apply_preset(RunSettings(), "Smooth")
    assert smooth.optimizer == "adam" and smooth.average and smooth.padding == "replicate"
    assert smooth.sizes[0] == 128 and smooth.sizes[-1] == 512
    fast = apply_preset(RunSettings(), "Fast preview")
    assert fast.sizes[-1] == 256 and fast.steps * len(fast.sizes) < 200
    # issue 23: the falling profile, relu5_1 (the painting's objects) at 0
    for preset in (smooth, fast):
        assert preset.style_layer_weights[:4] == FALLING_LAYER_WEIGHTS[:4]
        assert preset.style_layer_weights[4] == 0
