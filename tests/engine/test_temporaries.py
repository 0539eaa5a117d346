"""A save sweeps the temporary files an earlier, crashed save of the same file left beside it:
only Impasto's own pattern, and only old ones (issue 17)."""

from __future__ import annotations

import os
import time

import pytest
from PIL import Image

from engine.files import write_atomically
from engine.images import save_image


def leftovers(folder, name: str) -> dict[str, bool]:
    """Temporary-looking files beside `name`; True for those a sweep should remove."""
    old = time.time() - 3600
    files = {
        f".{name}.ab12cd_9.tmp": True,  # a crashed save of this file, an hour ago
        f".{name}.zz99zz99.tmp": False,  # one being written right now
        ".other.png.ab12cd_9.tmp": False,  # another file's
        f".{name}.not-ours.tmp": False,  # not tempfile's pattern
        f"{name}.ab12cd_9.tmp": False,  # no leading dot: the user's file
    }
    for file in files:
        (folder / file).write_bytes(b"x")
        if "zz99zz99" not in file:  # all old but the one in progress
            os.utime(folder / file, (old, old))
    return files


@pytest.mark.parametrize("name", ["out.png", "report.json"])
def test_a_save_sweeps_its_own_stale_temporaries_and_nothing_else(tmp_path, name):
    files = leftovers(tmp_path, name)
    if name.endswith(".png"):
        save_image(Image.new("RGB", (8, 8)), tmp_path / name)
    else:
        write_atomically(tmp_path / name, "{}")
    for file, swept in files.items():
        assert (tmp_path / file).exists() != swept, file
    assert (tmp_path / name).exists()
