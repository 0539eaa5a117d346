"""engine/ is plain PyTorch: every module imports with Qt made unimportable."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
sys.modules["PySide6"] = None  # any `import PySide6...` now raises ImportError
import engine
names = [m.name for m in pkgutil.iter_modules(engine.__path__)]
for name in names:
    importlib.import_module(f"engine.{name}")
assert not any(m.startswith("PySide6") for m in sys.modules if sys.modules[m] is not None)
print(len(names), "engine modules")
"""


def test_engine_imports_without_qt():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[0]) >= 7
