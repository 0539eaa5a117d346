"""`main.py --selftest` from source: the same check installer/check_bundle.sh runs on a bundle."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from gui.selftest import run_selftest

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "Impasto"


def test_selftest_passes_with_generated_weights(tmp_path):
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        IMPASTO_MODELS_DIR=str(tmp_path / "models"),
        IMPASTO_BUNDLED_MODELS_DIR=str(tmp_path / "bundled"),
        IMPASTO_CONFIG_DIR=str(tmp_path / "config"),
    )
    done = subprocess.run(
        [sys.executable, "main.py", "--selftest"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("SELFTEST OK")
    assert any("using generated weights" in line for line in lines)
    window_png = next(line.split(None, 1)[1] for line in lines if line.startswith("window:"))
    with Image.open(window_png) as grab:
        assert grab.width >= 600 and grab.height >= 400
    # The user's preferences are not touched: the self-test keeps its own.
    assert not (tmp_path / "config").exists()


def test_selftest_reports_a_damaged_bundled_model(tmp_path, monkeypatch, capsys):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "vgg19.pth").write_bytes(b"not a weights file")
    manifest = {"arch": "vgg19", "preprocessing": "torchvision", "sha256": "0" * 64,
                "size": 5, "source": "test", "source_sha256": "0" * 64}  # fmt: skip
    (bundled / "vgg19.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("IMPASTO_BUNDLED_MODELS_DIR", str(bundled))

    assert run_selftest() == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("SELFTEST FAILED: weights:")
    assert "differs from its manifest" in last


@pytest.mark.skipif(not (BUNDLE / "Impasto").exists(), reason="no bundle: installer/build.py")
def test_built_bundle_passes_its_selftest():
    # CI does not build bundles (too slow); this runs after a local installer/build.py.
    done = subprocess.run(
        ["sh", str(ROOT / "installer" / "check_bundle.sh"), str(BUNDLE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
