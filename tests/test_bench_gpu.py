"""bench/gpu.py, the GPU benchmark, runs end to end on the CPU (its --quick mode)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from bench import gpu

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_on_the_cpu(tmp_path):
    out = tmp_path / "gpu.json"
    # An empty images folder and no --weights: generated images and a random VGG19.
    command = [sys.executable, str(ROOT / "bench" / "gpu.py"), "--quick", "--device", "cpu",
               "--images", str(tmp_path), "--out", str(out)]  # fmt: skip
    # One thread, as the other tests (conftest.py): two on a shared 2-core machine wait on
    # each other, and the run took 40 s instead of 6.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]

    results = json.loads(out.read_text())
    assert results["modes"] == ["fp32", "tf32", "bf16"]
    assert results["sizes"] == [64, 96]
    for size in results["sizes"]:
        rows = {r["mode"]: r for r in results["speed"] if r["size"] == size}
        assert set(rows) == set(results["modes"])
        assert rows["fp32"]["s_per_step"] > 0
        assert rows["fp32"]["achieved_tflops"] > 0
        assert rows["tf32"]["status"] == "skipped"  # CUDA only
        finished = [r for r in results["finished"] if r["size"] == size]
        assert finished[0]["steps"] > 0 and finished[0]["seconds"] > 0
    assert "only meaningful on trained weights" in results["network"]["note"]
    assert "| size | image | mode | cuDNN benchmark | s/step |" in result.stdout
    assert "| 96 | 96×72 | fp32 | off |" in result.stdout


def test_out_of_memory_is_recorded_not_raised(tmp_path, monkeypatch, capsys):
    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(gpu, "StyleTransfer", out_of_memory)
    out = tmp_path / "gpu.json"
    gpu.main(["--quick", "--device", "cpu", "--modes", "fp32", "--images", str(tmp_path),
              "--out", str(out)])  # fmt: skip
    results = json.loads(out.read_text())
    assert [r["status"] for r in results["speed"]] == ["out of memory", "out of memory"]
    assert results["finished"] == []  # nothing ran at either size
    assert "out of memory: CUDA out of memory" in capsys.readouterr().out


def test_step_cost_matches_precision_py_on_vgg19():
    from bench.precision import step_tflop
    from engine.settings import RunSettings
    from engine.vgg import VGGFeatures, random_state_dict

    settings = RunSettings()
    net = VGGFeatures(random_state_dict("vgg19"), settings.content_layers + settings.style_layers)
    assert gpu.step_tflop(net, 512, 384) == step_tflop(512, 384)
