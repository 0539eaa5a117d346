"""Build the Impasto desktop bundle in one command.

    python3 installer/build.py                        # CPU flavour -> dist/Impasto/
    python3 installer/build.py --flavour cuda         # CUDA flavour -> dist/cuda/Impasto/
    python3 installer/build.py --with-weights vgg19-dcbb9e9d.pth   # bundle a model too

Steps: make (or reuse) a build virtualenv under build/ with only what the app needs at run
time plus PyInstaller; run PyInstaller on installer/impasto.spec (one-folder build); add the
Linux desktop entry, icons and install.sh; import the weights file into <bundle>/models/ when
asked (where engine/weights_store.py looks for a bundled model); on Linux, pack a .tar.gz; print
the sizes. Check the result with installer/check_bundle.sh.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "installer"
sys.path.insert(0, str(ROOT))
from engine.version import __version__ as VERSION  # noqa: E402  (the one place it is written)

RUNTIME = ["numpy", "Pillow", "PySide6-Essentials==6.12.0", "pyinstaller>=6.10,<7"]
FLAVOURS = {
    # The CPU wheel is not on PyPI for Linux (PyPI's Linux torch is the CUDA build): it comes
    # from PyTorch's CPU index. The CUDA build brings the nvidia-* library wheels with it.
    "cpu": {"torch": "torch==2.13.0+cpu", "index": "https://download.pytorch.org/whl/cpu"},
    "cuda": {"torch": "torch==2.14.1", "index": ""},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flavour", choices=FLAVOURS, default="cpu")
    parser.add_argument("--with-weights", metavar="FILE", help="a VGG .pth file to bundle")
    parser.add_argument("--python", default=sys.executable, help="Python for the build venv")
    parser.add_argument(
        "--torch-index",
        metavar="URL",
        help="extra package index for torch ('' for none; default: the flavour's)",
    )
    parser.add_argument("--no-archive", action="store_true", help="skip the .tar.gz")
    args = parser.parse_args()
    started = time.monotonic()

    flavour = FLAVOURS[args.flavour]
    index = flavour["index"] if args.torch_index is None else args.torch_index
    python = build_venv(args.flavour, args.python, [flavour["torch"], *RUNTIME], index)

    dist = ROOT / "dist" if args.flavour == "cpu" else ROOT / "dist" / args.flavour
    bundle = dist / "Impasto"
    run([python, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(ROOT / "build" / f"pyinstaller-{args.flavour}"),
         str(INSTALLER / "impasto.spec")])  # fmt: skip
    if sys.platform.startswith("linux"):
        add_linux_files(bundle)
    if args.with_weights:
        add_weights(python, bundle, Path(args.with_weights))

    print(f"\nbundle:  {bundle} ({du(bundle) / 2**20:.0f} MiB)")
    if sys.platform.startswith("linux") and not args.no_archive:
        archive = dist / f"Impasto-{VERSION}-linux-x86_64-{args.flavour}.tar.gz"
        make_tarball(bundle, archive)
        print(f"archive: {archive} ({archive.stat().st_size / 2**20:.0f} MiB)")
    print(f"built in {(time.monotonic() - started) / 60:.1f} min; "
          f"check it with: installer/check_bundle.sh {bundle}")  # fmt: skip
    return 0


def build_venv(flavour: str, base_python: str, requirements: list[str], index: str) -> str:
    """A venv under build/ with the flavour's torch; reinstalled only when the list changes."""
    venv = ROOT / "build" / f"venv-{flavour}"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = venv / "impasto-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return str(python)
    if not python.exists():
        run([base_python, "-m", "venv", str(venv)])
    pip = [str(python), "-m", "pip", "install"]
    if index:
        pip += ["--extra-index-url", index]
    run([*pip, *requirements])
    stamp.write_text(wanted)
    return str(python)


def add_linux_files(bundle: Path) -> None:
    """The desktop entry and icons in XDG layout under share/, and the per-user installer."""
    share = bundle / "share"
    shutil.rmtree(share, ignore_errors=True)
    (share / "applications").mkdir(parents=True)
    shutil.copy2(INSTALLER / "linux" / "impasto.desktop", share / "applications")
    for png in sorted((ROOT / "resources" / "icons").glob("impasto-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(png, folder / "impasto.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "icon.svg", scalable / "impasto.svg")
    shutil.copy2(INSTALLER / "linux" / "install.sh", bundle / "install.sh")


def add_weights(python: str, bundle: Path, weights: Path) -> None:
    """Import the file into <bundle>/models with the app's own importer (hash + manifest)."""
    if not weights.is_file():
        raise SystemExit(f"--with-weights: {weights}: no such file")
    env = dict(os.environ, IMPASTO_MODELS_DIR=str(bundle / "models"))
    run([python, str(ROOT / "main.py"), "weights", "import", str(weights.resolve())], env=env)


def make_tarball(bundle: Path, archive: Path) -> None:
    print(f"packing {archive.name} ...", flush=True)
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=bundle.name)


def du(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def run(command: list[str], env: dict | None = None) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    sys.exit(main())
