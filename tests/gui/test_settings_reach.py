"""The window reaches every setting (issue 13): a preset file carrying any field's value
shows it in that field's control and gets to the engine; and what the engine actually ran
is what the window shows and saves."""

import pytest

from engine.images import read_settings
from engine.run import StyleTransfer
from engine.settings import SPECS
from gui.bind import _Bound
from tests.engine.test_settings_declaration import DEFAULTS, other_value
from tests.gui.conftest import drop_files

WAIT_MS = 60_000
# Fields the engine takes from elsewhere than the settings the window sends: the network
# it was given decides the model; the device is whatever is present here.
NOT_SENT_AS_IS = {"model", "device"}


def load_inputs(window, images, paintings: int = 1) -> None:
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]] * paintings)


@pytest.mark.parametrize("name", list(SPECS))
def test_a_preset_reaches_every_setting_in_the_window_and_the_run(name, window, qtbot, images,
                                                                  tmp_path):  # fmt: skip
    state = window.state
    load_inputs(window, images, paintings=2)  # two, for a blend
    value = other_value(name)
    base = state.settings.replace(size=64, steps=1, snapshot_every=0, scales=())
    changes = {name: value}
    if name == "style_layers":
        changes["style_layer_weights"] = (1.0, 1.0)
    if name == "scales":
        changes["size"] = value[-1]
    wanted = base.replace(**changes)
    path = tmp_path / "preset.json"
    path.write_text(wanted.to_json())

    assert state.load_preset(str(path))
    assert getattr(state.settings, name) == value
    control = window.controls.fields.get(name)
    if isinstance(control, _Bound):  # it shows the value, as read back from the control
        assert control.current() == value

    if name == "device" and value != "cpu":
        return  # only the CPU is certain to be here
    assert state.start()
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    ran = state.run_settings
    assert ran is not None
    if name not in NOT_SENT_AS_IS:
        assert getattr(ran, name) == value


def test_the_window_shows_and_saves_what_the_engine_ran(window, qtbot, images, monkeypatch,
                                                        tmp_path):  # fmt: skip
    """A NaN step makes the engine roll back and halve the learning rate. The window must
    follow, and the saved picture must carry the rate that made it, not the one asked for."""
    calls, real_loss = [0], StyleTransfer._loss

    def loss(self):
        calls[0] += 1
        return real_loss(self) * (float("nan") if calls[0] == 3 else 1.0)

    monkeypatch.setattr(StyleTransfer, "_loss", loss)
    state = window.state
    load_inputs(window, images)
    state.set_settings(optimizer="adam", learning_rate=0.04, steps=8, snapshot_every=0)
    state.start()
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert state.run_settings.learning_rate == 0.02  # the engine's own change
    assert state.settings.learning_rate == 0.02  # shown, and used by the next run
    out = tmp_path / "after-rollback.png"
    assert state.save_result(str(out))
    assert read_settings(out)["learning_rate"] == 0.02
    assert DEFAULTS.learning_rate is None  # (the default is untouched)


def test_the_blend_is_a_setting_that_follows_the_paintings(window, images):
    state = window.state
    load_inputs(window, images, paintings=2)
    state.set_style_weight(1, 3.0)
    assert state.settings.style_blend == (1.0, 3.0)
    load_inputs(window, images)  # a third painting joins at weight 1
    assert state.settings.style_blend == (1.0, 3.0, 1.0)
    state.remove_style(0)
    assert state.settings.style_blend == (3.0, 1.0) == state.style_weights()
    rows = window.style_pane.rows
    assert [rows.itemAt(i).widget().weight.value() for i in range(2)] == [3.0, 1.0]
