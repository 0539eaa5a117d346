"""`impasto batch` on this machine (--local): specs, grids over every setting, the images,
the index and the contact sheet; failures, cancelling and nothing partial. The same batches
on a real Ray cluster are in test_cluster.py."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.batch import LocalRunner, run_batch
from engine.batch_inputs import read_inputs, read_weights
from engine.batch_spec import (
    BatchSpecError,
    continuation_scales,
    expand,
    load_spec,
    spec_for,
)
from engine.cli import main
from engine.contact_sheet import contact_sheet
from engine.images import read_settings
from engine.presets import apply_preset
from engine.session import Session, save_session
from engine.settings import SPECS, RunSettings
from tests.engine.batch_helpers import (
    TINY,
    assert_nothing_partial,
    write_inputs,
    write_spec,
    write_truncated_image,
)
from tests.engine.helpers import fill_the_disk, painting, photo
from tests.engine.test_settings_declaration import other_value

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path):
    write_inputs(tmp_path)
    return tmp_path


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=float)


# --- specs -----------------------------------------------------------------------------------


def test_a_grid_is_every_combination_labelled_with_what_differs(folder):
    spec = expand({"content": "photo.png", "styles": "a.png", "size": 64,
                   "grid": {"style_weight": [2, 10], "seed": [0, 1]}}, folder)  # fmt: skip
    assert [(job.settings.style_weight, job.settings.seed) for job in spec.jobs] == [
        (2, 0), (2, 1), (10, 0), (10, 1)]  # fmt: skip
    assert [job.label for job in spec.jobs] == [
        "style_weight=2 seed=0", "style_weight=2 seed=1", "style_weight=10 seed=0",
        "style_weight=10 seed=1"]  # fmt: skip
    assert {job.settings.size for job in spec.jobs} == {64}
    assert [job.name for job in spec.jobs] == ["run-1", "run-2", "run-3", "run-4"]
    assert spec.inputs == {"photo.png": folder / "photo.png", "a.png": folder / "a.png"}


def test_runs_and_grid_combine_and_a_preset_follows_the_size(folder):
    spec = expand({"content": "photo.png", "styles": ["a.png"],
                   "runs": [{"preset": "Smooth", "size": 256}, {"styles": ["a.png", "b.png"]}],
                   "grid": {"tv_weight": [0.5, 2]}}, folder)  # fmt: skip
    smooth, _, two_paintings, _ = spec.jobs
    assert len(spec.jobs) == 4
    assert smooth.settings == apply_preset(RunSettings().replace(size=256), "Smooth").replace(
        tv_weight=0.5)  # the preset's √2 ladder, rising to the run's size
    assert two_paintings.styles == ("a.png", "b.png") and two_paintings.settings.size == 512
    assert two_paintings.label == "styles=a.png,b.png preset=- size=- tv_weight=0.5"


@pytest.mark.parametrize("name", list(SPECS))
def test_a_grid_reaches_every_setting(name, folder):
    as_data = lambda value: list(value) if isinstance(value, tuple) else value  # noqa: E731
    default, value = getattr(RunSettings(), name), other_value(name)
    spec = expand({"content": "photo.png", "styles": ["a.png", "b.png"],
                   "grid": {name: [as_data(default), as_data(value)]}}, folder)  # fmt: skip
    assert getattr(spec.jobs[0].settings, name) == default
    assert getattr(spec.jobs[1].settings, name) == value
    assert spec.jobs[1].differs[0][0] == name


def test_a_spec_made_from_settings_varies_only_its_grid(folder):
    settings = apply_preset(RunSettings(size=96), "Smooth").replace(seed=4)
    spec = expand(spec_for(settings, "photo.png", ["a.png"], {"style_weight": [1, 9]}), folder)
    assert [job.settings for job in spec.jobs] == [settings.replace(style_weight=1),
                                                   settings.replace(style_weight=9)]  # fmt: skip


def test_toml_and_json_specs_are_the_same_batch(folder):
    toml = 'content = "photo.png"\nstyles = ["a.png"]\nsize = 48\n[grid]\nseed = [0, 1]\n'
    (folder / "spec.toml").write_text(toml + "style_weight = [1.5, 3]\n")
    (folder / "spec.json").write_text(json.dumps({"content": "photo.png", "styles": ["a.png"],
                                      "size": 48, "grid": {"seed": [0, 1],
                                                           "style_weight": [1.5, 3]}}))  # fmt: skip
    assert load_spec(folder / "spec.toml").jobs == load_spec(folder / "spec.json").jobs


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"contnet": "photo.png"}, "unknown field 'contnet'"),
        ({"grid": {"stepz": [1]}}, "grid: unknown field 'stepz'"),
        ({"grid": {"steps": []}}, "grid: steps must be a non-empty list"),
        ({"grid": {"steps": [5, -1]}}, "run 2: steps must be a whole number from 0"),
        ({"runs": [{}, {"style_weight": "high"}]}, "run 2: style_weight must be a finite number"),
        ({"preset": "Sharp"}, "no preset named 'Sharp'"),
        ({"styles": []}, "styles must be a file or a non-empty list"),
        ({"style_blend": [1, 2]}, "style_blend has 2 weights for 1 styles"),
        ({"scales": [64, 32]}, "scales must rise to the size"),
        ({"thumbnail": 5000}, "thumbnail must be a whole number"),
    ],
)
def test_a_bad_spec_is_one_line_naming_the_run_and_the_field(folder, spec, expected):
    with pytest.raises(BatchSpecError) as error:
        expand({"content": "photo.png", "styles": ["a.png"], **spec}, folder, "spec.json")
    assert expected in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith("spec.json")


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        (None, "spec.json: file not found"),
        (lambda p: p.write_text("{not json"), "spec.json: not valid JSON"),
        (lambda p: p.write_text('{"content": "photo.png", "styles": "a.png", "sise": 3}'),
         "unknown field 'sise'"),
        (lambda p: p.write_text('{"content": "nope.png", "styles": "a.png", "output": "o"}'),
         "nope.png: file not found"),
        (lambda p: p.write_text('{"content": "photo.png", "styles": "a.png"}'),
         "no output folder"),
        (lambda p: p.write_text('{"content": "photo.png", "styles": "a.png", "output": "o", '
                                '"size": 200000}'), "size must be a whole number from 16"),
        (lambda p: p.write_text('{"content": "photo.png", "styles": "a.png", "output": "o", '
                                '"weights": "none.pth"}'), "none.pth: no such weights file"),
        (lambda p: p.write_text('{"content": "photo.png", "styles": "a.png", "output": "o"}'),
         "python main.py weights download vgg19"),
        (lambda p: p.write_text('{"content": "photo.png", "styles": "a.png", "output": "o", '
                                '"size": 16}'), "photo.png: content image is too small"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(folder, capsys, write, expected):
    path = folder / "spec.json"
    if write:
        write(path)
    assert main(["batch", str(path)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and expected in error[0], error
    assert not (folder / "o" / "index.json").exists()


def test_a_toml_syntax_error_is_one_line(folder, capsys):
    (folder / "spec.toml").write_text("content = \n")
    assert main(["batch", str(folder / "spec.toml"), "-o", str(folder / "o")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "spec.toml: not valid TOML" in error[0]


def test_an_output_that_would_overwrite_an_input_is_refused(folder, capsys, random_weights_file):
    (folder / "run-1.png").write_bytes((folder / "a.png").read_bytes())
    spec = write_spec(folder, random_weights_file, styles="run-1.png", grid={})
    assert main(["batch", str(spec), "-o", str(folder)]) == 2
    assert "would overwrite the input run-1.png" in capsys.readouterr().err


def test_a_spec_or_preset_in_the_output_folder_is_never_overwritten(folder, capsys,
                                                                     random_weights_file):
    out = folder / "out"
    out.mkdir()
    spec = write_spec(folder, random_weights_file, grid={})
    inside = out / "index.json"  # the user's spec, named as the batch names its index
    inside.write_text(spec.read_text().replace('"photo.png"', '"../photo.png"')
                      .replace('"a.png"', '"../a.png"'))  # fmt: skip
    before = inside.read_bytes()
    assert main(["batch", str(inside), "-o", str(out)]) == 2
    assert "would overwrite the spec" in capsys.readouterr().err
    assert inside.read_bytes() == before
    preset = out / "contact-sheet.png"  # a preset file (JSON), under the sheet's name
    preset.write_text(RunSettings(steps=2).to_json())
    spec = write_spec(folder, random_weights_file, grid={}, preset="out/contact-sheet.png")
    assert main(["batch", str(spec), "-o", str(out)]) == 2
    assert "would overwrite the preset out/contact-sheet.png" in capsys.readouterr().err
    assert preset.read_text() == RunSettings(steps=2).to_json()


def test_files_a_batch_did_not_write_are_left_untouched(folder, capsys, random_weights_file):
    out = folder / "out"
    out.mkdir()
    mine = out / "run-1.png"
    photo(seed=5).save(mine)
    before = mine.read_bytes()
    spec = write_spec(folder, random_weights_file, grid={})
    assert main(["batch", str(spec), "-o", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "run-1.png: already there, and not from an earlier batch" in error[0]
    assert mine.read_bytes() == before
    # A batch run again into its own folder replaces what it wrote there, and only that.
    mine.unlink()
    (out / "notes.txt").write_text("mine")
    assert main(["batch", str(spec), "-o", str(out), "--quiet"]) == 0
    assert main(["batch", str(spec), "-o", str(out), "--quiet"]) == 0
    assert (out / "notes.txt").read_text() == "mine"


# --- running here ----------------------------------------------------------------------------


def test_local_batch_writes_each_image_with_its_settings_the_sheet_and_the_index(
    folder, random_weights_file, capsys
):
    out = folder / "out"
    assert main(["batch", str(write_spec(folder, random_weights_file)), "-o", str(out)]) == 0
    names = sorted(path.name for path in out.iterdir())
    assert names == ["contact-sheet.png", "index.json", "run-1.png", "run-2.png", "run-3.png",
                     "run-4.png"]  # fmt: skip
    index = json.loads((out / "index.json").read_text())
    assert [run["differs"] for run in index["runs"]] == [
        {"styles": "a.png", "seed": "0"}, {"styles": "a.png", "seed": "1"},
        {"styles": "b.png", "seed": "0"}, {"styles": "b.png", "seed": "1"}]  # fmt: skip
    assert all(run["status"] == "done" and run["attempts"] == 1 for run in index["runs"])
    for number, run in enumerate(index["runs"], start=1):
        embedded = read_settings(out / f"run-{number}.png")
        assert embedded["seed"] == run["settings"]["seed"] == (number - 1) % 2
        assert embedded["styles"] == run["styles"] and embedded["content"] == "photo.png"
        assert Image.open(out / run["image"]).size == (32, 24)
    # Each run is its own picture: another seed starts from other noise (far apart), another
    # painting pulls the same noise elsewhere (3 steps: a little).
    a0, a1, b0, b1 = (pixels(out / f"run-{n}.png") for n in range(1, 5))
    assert np.abs(a0 - a1).mean() > 20 and np.abs(b0 - b1).mean() > 20
    assert np.abs(a0 - b0).mean() > 0.05 and np.abs(a1 - b1).mean() > 0.05
    sheet = Image.open(out / "contact-sheet.png")
    assert sheet.size[0] > 2 * 160 and sheet.size[1] > 2 * 160  # two by two thumbnails
    assert "4 done, 0 failed" in capsys.readouterr().err
    assert_nothing_partial(out)


def test_the_contact_sheet_shows_each_picture_in_order_and_greys_a_missing_one():
    red, blue = Image.new("RGB", (40, 20), (250, 0, 0)), Image.new("RGB", (20, 40), (0, 0, 250))
    sheet = contact_sheet([(red, "seed=0"), (None, "seed=1 (failed)"), (blue, "")], thumbnail=64)
    array = np.asarray(sheet)
    # Two columns (√3 rounded up), tiles 64 px plus padding 8 plus three label lines.
    centres = [(8 + 32, 8 + 32), (8 + 72 + 32, 8 + 32)]
    label_top = 8 + 64 + 2
    assert tuple(array[centres[0][1], centres[0][0]]) == (250, 0, 0)
    assert tuple(array[centres[1][1], centres[1][0]]) == (200, 200, 200)
    row_height = (sheet.size[1] - 8) // 2
    assert tuple(array[8 + row_height + 32, 8 + 32]) == (0, 0, 250)
    # The labels are drawn under their own tiles (the third has none).
    first_label = array[label_top:label_top + 12, 8:8 + 64]
    assert (first_label.sum(axis=2) < 200).any()
    third_label = array[row_height + label_top:row_height + label_top + 12, 8:8 + 64]
    assert not (third_label.sum(axis=2) < 200).any()


def test_a_run_that_fails_is_retried_then_reported_and_the_others_finish(
    folder, random_weights_file, capsys
):
    write_truncated_image(folder / "broken.png")
    spec = write_spec(folder, random_weights_file, grid={"styles": ["a.png", "broken.png",
                                                                    "b.png"]})  # fmt: skip
    out = folder / "out"
    assert main(["batch", str(spec), "-o", str(out)]) == 1
    index = json.loads((out / "index.json").read_text())
    assert [run["status"] for run in index["runs"]] == ["done", "failed", "done"]
    failed = index["runs"][1]
    assert failed["attempts"] == 2 and "broken.png" in failed["error"]
    assert failed["image"] is None and not (out / "run-2.png").exists()
    err = capsys.readouterr().err
    assert "run-2 failed after 2 attempts: broken.png" in err and "2 done, 1 failed" in err
    assert_nothing_partial(out)


def test_a_full_disk_is_one_line_and_leaves_nothing_partial(folder, random_weights_file,
                                                            capsys, monkeypatch):  # fmt: skip
    spec, out = write_spec(folder, random_weights_file, grid={}), folder / "out"
    out.mkdir()
    fill_the_disk(monkeypatch)
    assert main(["batch", str(spec), "-o", str(out)]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("impasto: the batch failed: ") and "disk is full" in error[-1]
    assert list(out.iterdir()) == []  # no picture, no index, no temporary file


def test_a_run_that_fails_once_succeeds_on_its_retry(folder, random_weights_file):
    spec = load_spec(write_spec(folder, random_weights_file))
    calls = []

    def flaky(job_data, *args, **kwargs):
        calls.append(job_data["name"])
        if calls.count("run-2") == 1 and job_data["name"] == "run-2":
            raise RuntimeError("the worker's disk filled up")
        from engine.batch import run_task

        return run_task(job_data, *args, **kwargs)

    runner = LocalRunner(read_weights(spec), read_inputs(spec), work=flaky)
    result = run_batch(spec, runner, folder / "out")
    assert [r.status for r in result.records] == ["done"] * 4
    assert [r.attempts for r in result.records] == [1, 2, 1, 1]
    assert calls == ["run-1", "run-2", "run-3", "run-4", "run-2"]


def test_cancel_keeps_what_finished_and_leaves_nothing_partial(folder, random_weights_file):
    spec = load_spec(write_spec(folder, random_weights_file, steps=30))
    stop, seen = threading.Event(), []

    def on_progress(progress, record):
        seen.append(progress)
        if record is not None:
            stop.set()  # Cancel as soon as the first picture is in

    runner = LocalRunner(read_weights(spec), read_inputs(spec))
    out = folder / "out"
    out.mkdir()
    result = run_batch(spec, runner, out, stop=stop, on_progress=on_progress)
    assert result.cancelled
    assert [r.status for r in result.records] == ["done", "cancelled", "cancelled", "cancelled"]
    assert sorted(p.name for p in out.iterdir()) == ["contact-sheet.png", "index.json",
                                                    "run-1.png"]  # fmt: skip
    index = json.loads((out / "index.json").read_text())
    assert index["cancelled"] and [r["status"] for r in index["runs"]][1:] == ["cancelled"] * 3
    assert seen[-1].cancelled == 3 and seen[-1].done == 1
    assert_nothing_partial(out)


def test_cancel_from_another_thread_stops_the_run_under_way(folder, random_weights_file):
    import time

    # The window's Cancel: set from the GUI thread while the worker is inside a run.
    spec = load_spec(write_spec(folder, random_weights_file, steps=2000, grid={}))
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.perf_counter()
    result = run_batch(spec, LocalRunner(read_weights(spec), read_inputs(spec)), folder / "out",
                       stop=stop)  # fmt: skip
    assert result.cancelled and [r.status for r in result.records] == ["cancelled"]
    assert time.perf_counter() - started < 15  # 2000 steps would take minutes
    assert not (folder / "out" / "run-1.png").exists()
    assert_nothing_partial(folder / "out")


def test_ctrl_c_in_the_middle_of_a_run_cancels_the_batch(folder, random_weights_file):
    spec = load_spec(write_spec(folder, random_weights_file))

    def interrupted(job_data, *args, **kwargs):
        if job_data["name"] == "run-2":  # Ctrl+C as the terminal sends it, as run 2 starts
            os.kill(os.getpid(), signal.SIGINT)
        from engine.batch import run_task

        return run_task(job_data, *args, **kwargs)

    runner = LocalRunner(read_weights(spec), read_inputs(spec), work=interrupted)
    result = run_batch(spec, runner, folder / "out")
    assert result.cancelled and result.count("done") == 1 and result.count("cancelled") == 3
    assert_nothing_partial(folder / "out")


def test_the_progress_line_counts_done_running_and_failed(folder, random_weights_file):
    spec = load_spec(write_spec(folder, random_weights_file, grid={"seed": [0, 1, 2]}))
    lines = []
    runner = LocalRunner(read_weights(spec), read_inputs(spec))
    run_batch(spec, runner, folder / "out", on_progress=lambda p, r: lines.append(p.line))
    assert lines[0].endswith("0/3 done, 1 running, 2 waiting, 0 failed")
    assert lines[2].endswith("2/3 done, 1 running, 0 waiting, 0 failed")
    assert lines[-1].startswith("[" + "#" * 24 + "]") and "3/3 done, 0 running" in lines[-1]


# --- a session at another size ---------------------------------------------------------------


def test_continuation_scales_go_on_from_the_picture_up_to_the_size():
    assert continuation_scales(512, 2048) == (724, 1024, 1448, 2048)
    assert continuation_scales(32, 64) == (45, 64)
    assert continuation_scales(512, 560) == () and continuation_scales(512, 256) == ()


def test_a_session_renders_at_a_larger_size_from_its_current_picture(
    tmp_path, random_weights_file
):
    # The current picture is the painting itself: a run that starts from it stays close to
    # it after a few small steps; one that started from the photo would not.
    settings = RunSettings(**TINY, init="content")
    latest = painting(32, 24, seed=3)
    save_session(Session(settings, photo(), [painting()], latest=latest, iteration=3),
                 tmp_path / "session")  # fmt: skip
    out = tmp_path / "out"
    argv = ["batch", "--from-session", str(tmp_path / "session"), "--size", "64", "--steps",
            "2", "-o", str(out), "--weights", random_weights_file]  # fmt: skip
    assert main(argv) == 0
    result = Image.open(out / "run-1.png")
    assert result.size == (64, 48)
    saved = read_settings(out / "run-1.png")
    assert saved["scales"] == [45, 64] and saved["size"] == 64 and saved["steps"] == 2
    assert saved["init"].endswith("session/latest.png")
    near = lambda image: np.abs(np.asarray(result, float) - np.asarray(  # noqa: E731
        image.resize(result.size, Image.Resampling.BICUBIC), float)).mean()
    assert near(latest) < near(photo()) / 2


def test_a_spec_finds_the_installed_model_by_network_and_preprocessing(folder, tmp_path):
    # Issue 26: with only vgg16-caffe imported, "model": "vgg16", "preprocessing": "caffe"
    # said "model vgg16 is not installed", and "model": "vgg16-caffe" was refused.
    import torch

    from engine import weights_store
    from engine.vgg import random_state_dict

    file = tmp_path / "vgg16.pth"
    torch.save(random_state_dict("vgg16"), file)
    weights_store.import_file(file, "vgg16-caffe")
    base = {"content": "photo.png", "styles": "a.png", **TINY}
    for named in ({"model": "vgg16", "preprocessing": "caffe"}, {"model": "vgg16-caffe"},
                  {"model": "vgg16"}):  # fmt: skip
        spec = expand({**base, **named}, folder)
        [(info, _)] = read_weights(spec).values()
        assert (info.arch, info.preprocessing) == ("vgg16", "caffe"), named
        assert info.source.endswith("vgg16-caffe.pth")
    session = Session(RunSettings(**TINY, model="vgg16"), photo(), [painting()],
                      preprocessing="caffe")  # fmt: skip
    save_session(session, folder / "session")
    spec = expand({"session": "session", "size": 32}, folder)
    assert spec.preprocessing == "caffe"
    with pytest.raises(BatchSpecError, match="caffe and torchvision preprocessing"):
        expand({**base, "grid": {"model": ["vgg16-caffe", "vgg19"]},
                "preprocessing": "torchvision"}, folder)  # fmt: skip


def test_from_session_needs_a_size_and_a_session(tmp_path, capsys):
    assert main(["batch", "--from-session", str(tmp_path), "-o", str(tmp_path / "o")]) == 2
    assert "--from-session needs --size N" in capsys.readouterr().err
    argv = ["batch", "--from-session", str(tmp_path), "--size", "64", "-o", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "no session there" in capsys.readouterr().err


def test_without_ray_local_works_and_ray_says_how_to_install_it(folder, random_weights_file):
    spec = write_spec(folder, random_weights_file, grid={})
    probe = f"""
import sys
sys.modules["ray"] = None  # `import ray` now fails, as without the cluster extra
from engine.cli import main
assert main(["batch", {str(spec)!r}, "--ray", "auto", "-o", {str(folder / "r")!r}]) == 2
assert main(["batch", {str(spec)!r}, "--quiet", "-o", {str(folder / "l")!r}]) == 0
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [
        "impasto: error: --ray needs Ray, which is not installed; pip install 'impasto[cluster]'"]
    assert (folder / "l" / "run-1.png").exists() and not (folder / "r").exists()


def test_a_ray_head_that_does_not_answer_is_one_line(folder, random_weights_file, capsys):
    pytest.importorskip("ray", reason="the cluster extra (ray) is not installed")
    import socket

    with socket.socket() as probe:  # a port on this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = write_spec(folder, random_weights_file, grid={})
    cases = ((f"127.0.0.1:{port}", f"no Ray cluster at 127.0.0.1:{port} ("),
             ("nowhere", "--ray nowhere: give auto, local or HOST:PORT"))
    for address, expected in cases:
        argv = ["batch", str(spec), "--ray", address, "-o", str(folder / "o")]
        assert main(argv) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and expected in error[0], error
    assert not (folder / "o").exists()


def test_ctrl_c_on_the_command_line_cancels_and_leaves_nothing_partial(
    folder, random_weights_file
):
    import time

    # Every step taken (settle 0) and enough of them that runs 2 and 3 cannot both finish
    # between run 1's picture appearing and the signal, even on a busy machine.
    spec = write_spec(folder, random_weights_file, steps=100, settle=0, grid={"seed": [0, 1, 2]})
    out = folder / "out"
    batch = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "batch", str(spec), "-o",
                              str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out / "run-1.png").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    batch.send_signal(signal.SIGINT)  # Ctrl+C, while run 2 is under way
    _, err = batch.communicate(timeout=60)
    assert batch.returncode == 1, err
    index = json.loads((out / "index.json").read_text())
    statuses = [run["status"] for run in index["runs"]]
    assert index["cancelled"] and statuses[0] == "done" and statuses[-1] == "cancelled"
    assert "cancelled" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert not (out / "run-3.png").exists()
    assert_nothing_partial(out)


def test_a_grid_too_large_is_counted_and_refused_before_it_is_expanded(folder, capsys):
    # 8 keys of 10 values: 10^8 runs, which once filled the memory while being listed.
    keys = ["seed", "steps", "size", "style_weight", "content_weight", "tv_weight",
            "style_scale", "learning_rate"]  # fmt: skip
    grid = {key: [1 + n for n in range(10)] for key in keys}
    (folder / "spec.json").write_text(json.dumps({"content": "photo.png", "styles": "a.png",
                                                  "grid": grid}))  # fmt: skip
    assert main(["batch", str(folder / "spec.json"), "-o", str(folder / "o")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [f"impasto: error: {folder / 'spec.json'}: 100000000 runs; at most 10000 "
                     "in one batch"]  # fmt: skip


def test_a_run_whose_save_fails_keeps_its_picture_and_says_where(folder, random_weights_file,
                                                                 monkeypatch, capsys):  # fmt: skip
    import engine.batch as batch

    out, real_save = folder / "out", batch.save_image

    def save(image, path, settings=None):
        if Path(path).name == "run-1.png":
            raise OSError(28, "No space left on device")
        return real_save(image, path, settings)

    monkeypatch.setattr(batch, "save_image", save)
    spec = write_spec(folder, random_weights_file, grid={})
    assert main(["batch", str(spec), "-o", str(out), "--quiet"]) == 1
    run = json.loads((out / "index.json").read_text())["runs"][0]
    assert run["status"] == "failed" and "the picture is kept as" in run["error"]
    (kept,) = out.glob("impasto-unsaved-*.png")
    assert Image.open(kept).size == (32, 24) and str(kept) in capsys.readouterr().err
