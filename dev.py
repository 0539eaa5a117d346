"""Set up the project's virtual environment (.venv) and then run the app or the tests.

    python3 dev.py app     # set up, then open Impasto
    python3 dev.py test    # set up, then lint and run the test suite

Setup is skipped when .venv already matches pyproject.toml and constraints.txt.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".impasto-setup"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def setup() -> None:
    wanted = hashlib.sha256(
        b"".join((ROOT / name).read_bytes() for name in ("pyproject.toml", "constraints.txt"))
    ).hexdigest()
    if venv_python().exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not venv_python().exists():
        print("creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("installing Impasto and its dependencies into .venv ...", flush=True)
    # constraints.txt pins the exact torch build; -e keeps the checkout importable as-is.
    subprocess.run([*pip, "-c", "constraints.txt", "-e", ".[test]"], cwd=ROOT, check=True)
    STAMP.write_text(wanted)


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "app"
    extra = sys.argv[2:]
    if command not in ("app", "test"):
        print(__doc__)
        return 2
    setup()
    python = str(venv_python())
    if command == "app":
        return subprocess.call([python, "main.py", *extra], cwd=ROOT)
    lint = subprocess.call([python, "-m", "ruff", "check", "."], cwd=ROOT)
    tests = subprocess.call([python, "-m", "pytest", *extra], cwd=ROOT)
    return tests or lint


if __name__ == "__main__":
    sys.exit(main())
