"""The preset combo and the Quality group: presets change the settings, a later change
shows "(modified)", and each quality control writes its RunSettings field."""

from __future__ import annotations

from engine.presets import PRESET_LAYER_WEIGHTS, preset_names
from engine.run import LIVE_FIELDS
from engine.settings import sqrt2_scales


def pick(combo, value) -> None:
    """Choose an entry as a user does (activated is what the panel listens to)."""
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_choosing_a_preset_changes_the_settings(window):
    controls, state = window.controls, window.state
    assert (
        [controls.preset.itemText(i) for i in range(controls.preset.count())]
        == [
            "Quick finish",
            "Classic (Gatys)",
            "Smooth",
            "Fast preview",
        ]
        == preset_names()
    )
    weight = state.settings.style_weight
    pick(controls.preset, "Smooth")
    settings = state.settings
    assert settings.optimizer == "adam" and settings.average and settings.carry_moments
    assert settings.style_statistic == "gram+moments" and settings.padding == "replicate"
    assert settings.style_layer_weights == PRESET_LAYER_WEIGHTS
    assert settings.scales == sqrt2_scales(64) and settings.style_weight == weight  # kept
    assert controls.preset.currentText() == "Smooth"
    assert controls.optimizer.currentData() == "adam" and controls.average.isChecked()

    pick(controls.preset, "Fast preview")
    assert state.settings.size == 256 and state.settings.steps == 40
    assert controls.size.value() == 256

    pick(controls.preset, "Classic (Gatys)")
    assert state.settings.optimizer == "lbfgs" and not state.settings.average
    assert state.settings.scales == () and state.settings.padding == "zeros"
    assert controls.preset.currentText() == "Classic (Gatys)"


def test_a_later_change_shows_modified_and_choosing_again_restores(window):
    controls, state = window.controls, window.state
    pick(controls.preset, "Smooth")
    state.set_settings(style_weight=2e9)  # not a preset field: still the preset
    assert controls.preset.currentText() == "Smooth"

    pick(controls.padding, "reflect")  # a quality control, through the panel
    assert state.settings.padding == "reflect"
    assert controls.preset.currentIndex() == -1
    assert controls.preset.placeholderText() == "Smooth (modified)"
    assert state.preset_label() == "Smooth (modified)"

    pick(controls.preset, "Smooth")  # picking it again takes the preset back
    assert state.settings.padding == "replicate"
    assert controls.preset.currentText() == "Smooth"
    # Changing the seed (not a preset field) keeps Smooth's √2 scales and the preset.
    controls.seed.setValue(7)
    controls.seed.editingFinished.emit()
    assert state.settings.seed == 7 and state.settings.scales == sqrt2_scales(64)
    assert controls.preset.currentText() == "Smooth"


def test_quality_controls_map_to_run_settings(window):
    controls, state = window.controls, window.state
    assert not controls.quality_box.isVisibleTo(window)  # collapsed by default
    controls.quality_button.setChecked(True)
    assert controls.quality_box.isVisibleTo(window)

    expected = {}
    for combo, field, values in (
        (controls.statistic, "style_statistic", ("moments", "gram+moments", "gram")),
        (controls.padding, "padding", ("replicate", "reflect", "zeros")),
        (controls.pooling, "pooling", ("avg", "avg_scaled", "max")),
    ):
        for value in values:
            pick(combo, value)
            assert getattr(state.settings, field) == value
        expected[field] = values[-1]
    for box, field in (
        (controls.average, "average"),
        (controls.color_match, "color_match"),
        (controls.carry, "carry_moments"),
        (controls.preserve, "preserve_colors"),
    ):
        box.setChecked(True)
        assert getattr(state.settings, field) is True
        box.setChecked(False)
        assert getattr(state.settings, field) is False
    for widget in (controls.average, controls.statistic, controls.padding, controls.pooling,
                   controls.color_match, controls.carry):  # fmt: skip
        assert widget.toolTip() and "\n" not in widget.toolTip()

    # The settings reach the panel too (e.g. from a preset file).
    state.set_settings(pooling="avg_scaled", color_match=True, style_statistic="moments")
    assert controls.pooling.currentData() == "avg_scaled"
    assert controls.color_match.isChecked() and controls.statistic.currentData() == "moments"


def test_live_quality_fields_stay_enabled_during_a_run(window, qtbot, images):
    from tests.gui.conftest import drop_files

    assert {"average", "preserve_colors"} <= set(LIVE_FIELDS)
    controls, state = window.controls, window.state
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    state.set_settings(optimizer="adam")
    state.start()
    qtbot.waitUntil(lambda: state.report is not None, timeout=60_000)
    assert controls.average.isEnabled() and controls.preserve.isEnabled()
    for widget in (controls.preset, controls.statistic, controls.padding, controls.pooling,
                   controls.color_match, controls.carry):  # fmt: skip
        assert not widget.isEnabled()
    controls.average.setChecked(True)
    qtbot.waitUntil(lambda: state.worker.run_settings.average, timeout=60_000)
    state.stop()
    qtbot.waitUntil(lambda: state.status == "idle", timeout=60_000)
    assert controls.padding.isEnabled() and controls.padding.toolTip() != ""
