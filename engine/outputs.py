"""Checking a run's output paths before the run: a run that would overwrite one of its own
inputs, write two outputs to one file, or save where it cannot is refused before the first
step, not discovered after an hour of work."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from engine.files import (
    describe_os_error,
    describe_path_error,
    name_max,
    resolved,
    shorten,
    temporary_prefix,
)
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
        try:
            _check_usable(role, path, is_image=role in images)
        except (OSError, RuntimeError) as error:  # a path the OS refuses: too long, a loop
            raise OutputError(f"{role} {shorten(path)}: {describe_path_error(error)}") from None
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
    folder = path.parent
    size, limit = len(os.fsencode(path.name)), name_max(folder)
    if size > limit:
        raise OutputError(f"{role} {shorten(path)}: the file name is too long ({size} bytes; "
                          f"at most {limit} here)")  # fmt: skip
    try:
        os.stat(path)  # a loop of links, say: the OS's refusal is raised (to check_outputs)
    except FileNotFoundError:
        pass
    if path.is_dir():
        raise OutputError(f"{role} {path}: is a folder; give a file name")
    if not folder.is_dir():
        raise OutputError(f"{role} {path}: folder {folder} does not exist")
    try:  # the only portable test of "can I create this file here" is to create one, under
        # the temporary name the save will use
        with tempfile.NamedTemporaryFile(dir=folder, prefix=temporary_prefix(path), suffix=".tmp"):
            pass
    except OSError as error:
        raise OutputError(f"{role} {path}: cannot write in {folder} "
                          f"({describe_os_error(error)})") from error  # fmt: skip


def _same_file(a: Path, b: Path) -> bool:
    if os.path.normcase(resolved(a)) == os.path.normcase(resolved(b)):
        return True
    try:
        return os.path.samefile(a, b)  # hard links: two names, one file
    except OSError:  # one of them does not exist (yet)
        return False
