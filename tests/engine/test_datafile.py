"""The one loader for data files (engine/datafile.py) and every engine consumer of what it
returns: hostile files are refused with one DataFileError line, never a traceback, a hang
or a memory blow-up; generated JSON never gets past a consumer as anything but a value that
fits its schema or that consumer's own one error type."""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from engine import catalogue, weights_store
from engine.datafile import (
    MAX_DEPTH,
    DataFileError,
    Field,
    field_problem,
    load_json,
    parse_json,
    read_bounded,
)
from engine.images import SETTINGS_KEY, read_settings, save_image
from engine.session import SESSION_SCHEMA, Session, SessionError, load_session, save_session
from engine.settings import RULES, RunSettings
from engine.vgg import WeightsError

EXAMPLES = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip

# Any JSON value, with the numbers and strings that break naive code: huge integers,
# 1e300, negative zero, empty strings, NUL and lone surrogates.
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**70, -(2**70), 10**30, 1e300, -1e300, 5e-324, -0.0, 0.99999])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "\x00", "\ud800", "abc", "no", "1", "relu1_1", "NaN"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=12,
)


def dict_near(valid: dict, extra_keys: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    """A valid object with some keys replaced by any JSON value, some dropped, some added:
    the inputs most likely to slip past a check."""
    keys = st.sampled_from([*valid, *extra_keys, "unknown"])
    changes = st.dictionaries(keys, json_values, max_size=4)
    dropped = st.sets(st.sampled_from(list(valid)), max_size=2)
    return st.builds(
        lambda c, d: {k: v for k, v in {**valid, **c}.items() if k not in d}, changes, dropped
    )


def write(path: Path, data, raw: bool = False) -> Path:
    """`data` as JSON in `path`; with `raw`, the text `data` itself."""
    path.write_text(data if raw else json.dumps(data), encoding="utf-8")
    return path


# --- the loader ------------------------------------------------------------------------


def test_deeply_nested_json_is_refused_without_a_recursion_error(tmp_path):
    for text in ("[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000):
        path = write(tmp_path / "deep.json", text, raw=True)
        with pytest.raises(DataFileError, match="nested more than"):
            load_json(path, None, 1_000_000)
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "ok") is not None
    assert parse_json('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\""]', "s")


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', '{"a": -Infinity}', "[1e400]"])
def test_non_finite_numbers_are_refused(text):
    with pytest.raises(DataFileError, match="not valid JSON"):
        parse_json(text, "x.json")


def test_a_fifo_is_refused_at_once_rather_than_waited_on(tmp_path):
    fifo = tmp_path / "preferences.json"
    os.mkfifo(fifo)
    result = []
    reader = threading.Thread(target=lambda: result.append(_error(read_bounded, fifo, 1000)))
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the reader so the test process can end
        with open(fifo, "wb"):
            pass
        reader.join(5)
        pytest.fail("reading a FIFO hung")
    assert "not a regular file" in result[0]


def test_a_link_to_an_endless_device_is_refused(tmp_path):
    link = tmp_path / "session.json"
    link.symlink_to("/dev/zero")
    assert "not a regular file" in _error(read_bounded, link, 1000)


def test_the_byte_limit_is_counted_while_reading(tmp_path, monkeypatch):
    path = write(tmp_path / "big.json", "x" * 5000)
    assert "too large" in _error(read_bounded, path, 1000)
    # A size that stat reports as small proves nothing: the read itself stops.
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: _small(real_fstat(fd)))
    assert "too large" in _error(read_bounded, path, 1000)
    assert len(read_bounded(path, 6000)) == 5002


def _small(result):
    fields = list(result)
    fields[6] = 10  # st_size
    return os.stat_result(fields)


def _error(function, *args) -> str:
    try:
        function(*args)
    except DataFileError as error:
        return str(error)
    return ""


SCHEMA = {
    "count": Field("int", 0, 10, required=True),
    "ratio": Field("number", 0, 1),
    "name": Field("text", max_length=8),
    "flag": Field("bool"),
    "items": Field("list", max_length=3),
    "nested": Field("object", nullable=True),
}


@EXAMPLES
@given(data=json_values | dict_near({"count": 1, "ratio": 0.5, "name": "a", "flag": True}))
def test_generated_json_either_fits_the_schema_or_is_refused(data):
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "data.json", data)
        try:
            values = load_json(path, SCHEMA, 100_000)
        except DataFileError as error:
            assert str(error).startswith(str(path)) and "\n" not in str(error)
            return
    assert set(values) <= set(SCHEMA) and "count" in values
    for key, value in values.items():
        assert field_problem(value, SCHEMA[key]) is None
    assert not isinstance(values["count"], bool) and 0 <= values["count"] <= 10
    if "ratio" in values:
        assert math.isfinite(values["ratio"])


@EXAMPLES
@given(
    raw=st.binary(max_size=200) | st.text(alphabet='[]{}":,0123456789.eE-\\ntrufalsN', max_size=200)
)
def test_any_bytes_are_data_or_one_error(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.json"
        path.write_bytes(raw if isinstance(raw, bytes) else raw.encode())
        try:
            load_json(path, None, 1000)
        except DataFileError:
            pass


# --- consumers: settings, sessions, manifests, settings inside images ----------------------


@EXAMPLES
@given(data=json_values | dict_near(RunSettings().to_dict()))
def test_generated_settings_are_valid_or_refused_with_a_value_error(data):
    try:
        settings_ = RunSettings.from_dict(data)
    except ValueError as error:
        assert "\n" not in str(error)
        return
    for name, rule in RULES.items():  # every field fits its rule
        assert field_problem(getattr(settings_, name), rule) is None, name
    assert settings_.sizes[-1] == settings_.size
    assert RunSettings.from_dict(json.loads(settings_.to_json())) == settings_


def test_every_run_setting_has_exactly_one_rule():
    assert set(RULES) == set(RunSettings.__dataclass_fields__)


@pytest.mark.parametrize(
    "changes",
    [{"seed": "abc"}, {"seed": 2**70}, {"seed": True}, {"snapshot_every": "x"},
     {"preserve_colors": "no"}, {"style_weight": 1e300}, {"learning_rate": 1e300},
     {"scales": [64, 32], "size": 32}, {"scales": [64, 64]}, {"style_blend": [1, "a"]},
     {"style_layer_weights": [1, 1, 1, 1, 1e300]}, {"size": 512.5}, {"steps": -1},
     {"init": ""}, {"content_layers": [["relu4_2"]]}],
)  # fmt: skip
def test_wrong_types_and_ranges_are_refused_naming_the_field(changes):
    with pytest.raises(ValueError) as raised:
        RunSettings.from_dict({**RunSettings().to_dict(), **changes})
    assert any(str(raised.value).startswith(key) for key in changes)


@pytest.fixture(scope="module")
def saved_session(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("session")
    image = Image.new("RGB", (24, 16), (200, 40, 10))
    save_session(Session(RunSettings(size=64), image, [image], iteration=3, latest=image,
                         snapshots=[(2, image)]), folder)  # fmt: skip
    return folder


VALID_SESSION = {"version": 1, "saved_at": 1.7e9, "settings": RunSettings(size=64).to_dict(),
                 "content_label": "photo", "style_labels": ["painting"], "styles": 1,
                 "iteration": 3, "latest": True, "snapshots": [2]}  # fmt: skip


@EXAMPLES
@given(data=json_values | dict_near(VALID_SESSION))
def test_generated_session_records_restore_or_are_refused(saved_session, data):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for image in saved_session.glob("*.png"):
            (folder / image.name).write_bytes(image.read_bytes())
        write(folder / "session.json", data)
        try:
            session = load_session(folder)
        except SessionError as error:
            assert "\n" not in str(error)
            return
    assert isinstance(session.settings, RunSettings)
    assert 0 <= session.saved_at <= SESSION_SCHEMA["saved_at"].high
    assert all(isinstance(label, str) for label in session.style_labels)
    assert isinstance(session.iteration, int) and isinstance(session.content_label, str)


@pytest.mark.parametrize("saved_at", ["Infinity", "NaN", "1e300", "-1", '"yesterday"'])
def test_a_session_saved_at_no_real_time_is_refused(saved_session, tmp_path, saved_at):
    for image in saved_session.glob("*.png"):
        (tmp_path / image.name).write_bytes(image.read_bytes())
    record = (saved_session / "session.json").read_text()
    record = json.dumps({**json.loads(record), "saved_at": 0}).replace(
        '"saved_at": 0', f'"saved_at": {saved_at}'
    )
    write(tmp_path / "session.json", record, raw=True)
    with pytest.raises(SessionError):
        load_session(tmp_path)


VALID_MANIFEST = {"schema": 1, "name": "vgg19", "arch": "vgg19", "preprocessing": "torchvision",
                  "sha256": "a" * 64, "size": 100, "source": "x",
                  "source_sha256": "b" * 64}  # fmt: skip


@EXAMPLES
@given(data=json_values | dict_near(VALID_MANIFEST))
def test_generated_manifests_describe_a_model_or_are_refused(data):
    with tempfile.TemporaryDirectory() as folder:
        manifest = write(Path(folder) / "vgg19.json", data)
        try:
            installed = weights_store._read_manifest(manifest, catalogue.model_spec("vgg19"))
        except WeightsError as error:
            assert "\n" not in str(error)
            return
    assert isinstance(installed.size, int) and installed.size > 0
    assert len(installed.sha256) == 64 and isinstance(installed.source, str)


def test_a_huge_manifest_is_not_read_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPASTO_MODELS_DIR", str(tmp_path))
    manifest = tmp_path / "vgg19.json"
    with open(manifest, "wb") as file:  # 500 MB, sparse: costs no disk
        file.write(b'{"a": "')
        file.truncate(500 * 2**20)
    (tmp_path / "vgg19.pth").write_bytes(b"x")
    with pytest.raises(WeightsError, match="too large.*set aside"):
        weights_store.find_installed("vgg19")
    assert weights_store.find_installed("vgg19") is None  # set aside: now simply not installed
    assert list(tmp_path.glob("vgg19.json.bad-*"))


@EXAMPLES
@given(data=json_values | st.text(alphabet="[]{}", max_size=300))
def test_settings_embedded_in_images_are_an_object_or_none(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.png"
        save_image(Image.new("RGB", (8, 8)), path)
        image = Image.open(path)
        info = PngImagePlugin.PngInfo()
        text = data if isinstance(data, str) else json.dumps(data)
        # A lone surrogate cannot be UTF-8: written as is, it makes the chunk invalid UTF-8,
        # which a damaged or hand-made file may hold too.
        info.add_itxt(SETTINGS_KEY, text.encode("utf-8", "surrogatepass"))
        image.save(path, pnginfo=info)
        found = read_settings(path)
    assert found is None or isinstance(found, dict)


def test_deeply_nested_settings_in_an_image_are_ignored(tmp_path):
    path = save_image(Image.new("RGB", (8, 8)), tmp_path / "x.png", {"a": 1})
    assert read_settings(path) == {"a": 1}
    info = PngImagePlugin.PngInfo()
    info.add_itxt(SETTINGS_KEY, "[" * 100_000)
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    assert read_settings(path) is None
