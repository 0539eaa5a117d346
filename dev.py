"""Set up the project's virtual environment (.venv) and then run the app or the tests.

    python3 dev.py app     # set up, then open Impasto
    python3 dev.py test    # set up, then lint and run the test suite

Setup is skipped when .venv already matches pyproject.toml and constraints.txt.
"""

import ctypes.util
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


# Qt's xcb platform plugin loads these at start; a minimal desktop may lack them, and Qt then
# stops with a plugin error that names none of them.
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4",
                 "xcb-keysyms": "libxcb-keysyms1"}  # fmt: skip
XCB_INSTALL = "sudo apt-get install " + " ".join(XCB_LIBRARIES.values())


def missing_xcb_libraries(find_library=ctypes.util.find_library, platform: str = sys.platform,
                          environ=os.environ) -> list[str]:  # fmt: skip
    """The Debian/Ubuntu packages of the libraries Qt's xcb plugin needs that are absent; none
    where that plugin will not be used (not Linux, another QT_QPA_PLATFORM, no DISPLAY)."""
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return []
    if environ.get("QT_QPA_PLATFORM", "xcb") not in ("", "xcb"):
        return []
    return [package for name, package in XCB_LIBRARIES.items() if find_library(name) is None]


def check_qt_libraries(**probe) -> bool:
    """Say which libraries to install, with the command, when Qt could not open its window."""
    missing = missing_xcb_libraries(**probe)
    if missing:
        print(f"Impasto's window needs system libraries that are missing: {', '.join(missing)}.\n"
              f"Install them with:\n\n    {XCB_INSTALL}\n", file=sys.stderr)  # fmt: skip
    return not missing


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
    # cluster: Ray, so the batch tests run on a real local cluster here and in CI.
    subprocess.run([*pip, "-c", "constraints.txt", "-e", ".[test,cluster]"], cwd=ROOT,
                   check=True)  # fmt: skip
    STAMP.write_text(wanted)


OTHER_KERNELS = "threads=2,onednn=off,fp32"
TRAINED_TESTS = ["tests/engine/test_trained.py", "tests/engine/test_regions_trained.py"]


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "app"
    extra = sys.argv[2:]
    if command not in ("app", "test"):
        print(__doc__)
        return 2
    if command == "app" and not check_qt_libraries():
        return 1
    setup()
    python = str(venv_python())
    if command == "app":
        return subprocess.call([python, "main.py", *extra], cwd=ROOT)
    lint = subprocess.call([python, "-m", "ruff", "check", "."], cwd=ROOT)
    tests = subprocess.call([python, "-m", "pytest", *extra], cwd=ROOT)
    if extra:  # a chosen selection: just that
        return tests or lint
    # Another CPU runs other convolution kernels, and L-BFGS follows them down another path:
    # the tests of the trained network run once more on other kernels (tests/conftest.py).
    other_kernels = {**os.environ, "IMPASTO_TEST_KERNELS": OTHER_KERNELS}
    print(f"\nThe trained-network tests again, on other kernels ({OTHER_KERNELS}):", flush=True)
    variation = subprocess.call([python, "-m", "pytest", "-q", "-m", "trained", *TRAINED_TESTS],
                                cwd=ROOT, env=other_kernels)  # fmt: skip
    return tests or variation or lint


if __name__ == "__main__":
    sys.exit(main())
