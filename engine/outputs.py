"""Checking a run's output paths before the run: a run that would overwrite one of its own
inputs, write two outputs to one file, or save where it cannot is refused before the first
step, not discovered after an hour of work."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from engine.files import describe_os_error
from engine.images import SAVE_FORMATS


class OutputError(ValueError):
    """An output path that cannot be used; str() is one line naming it."""


def check_outputs(
    inputs: Mapping[str, Path], outputs: Mapping[str, Path], images: tuple[str, ...] = ()
) -> None:
    """Raise OutputError if an output is unusable, is one of `inputs`, or is another output.

    `inputs` and `outputs` map a role ("content image", "-o") to a path; `images` names the
    outputs that are saved as images, so their extension must be one save_image knows.
    Paths are compared resolved (symlinks followed) and by file identity (hard links).
    Overwriting an unrelated existing file stays allowed: saves are atomic.
    """
    seen: dict[str, Path] = dict(inputs)
    for role, path in outputs.items():
        path = Path(path)
        _check_usable(role, path, is_image=role in images)
        for other_role, other in seen.items():
            if _same_file(path, Path(other)):
                if other_role in inputs:
                    raise OutputError(f"{role} {path}: would overwrite the {other_role} "
                                      f"{other}; choose another file")  # fmt: skip
                raise OutputError(f"{role} {path}: same file as {other_role} {other}; "
                                  "give each output its own file")  # fmt: skip
        seen[role] = path


def _check_usable(role: str, path: Path, is_image: bool) -> None:
    if is_image and path.suffix.lower() not in SAVE_FORMATS:
        kind = f"unknown file type {path.suffix}" if path.suffix else "no file extension"
        raise OutputError(f"{role} {path}: {kind}; use one of {', '.join(SAVE_FORMATS)}")
    if path.is_dir():
        raise OutputError(f"{role} {path}: is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{role} {path}: folder {folder} does not exist")
    try:  # the only portable test of "can I create a file here" is to create one
        with tempfile.TemporaryFile(dir=folder, prefix=".impasto-probe-"):
            pass
    except OSError as error:
        raise OutputError(f"{role} {path}: cannot write in {folder} "
                          f"({describe_os_error(error)})") from error  # fmt: skip


def _same_file(a: Path, b: Path) -> bool:
    if os.path.normcase(a.resolve()) == os.path.normcase(b.resolve()):
        return True
    try:
        return os.path.samefile(a, b)  # hard links: two names, one file
    except OSError:  # one of them does not exist (yet)
        return False
