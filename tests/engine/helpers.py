"""Small synthetic images for engine tests, and files that are not what they seem."""

import os
import threading
import time
from contextlib import contextmanager

import numpy as np
from PIL import Image


def photo(width: int = 64, height: int = 48, seed: int = 1) -> Image.Image:
    """A smooth 'photo': colour gradients with a few soft shapes."""
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    rng = np.random.default_rng(seed)
    red = 0.5 + 0.4 * np.sin(6 * x + rng.uniform(0, 3))
    green = 0.5 + 0.4 * np.cos(5 * y + rng.uniform(0, 3))
    blue = 0.5 + 0.3 * np.sin(4 * (x + y))
    array = np.stack([red, green, blue], axis=-1)
    return Image.fromarray((array.clip(0, 1) * 255).astype(np.uint8))


def painting(width: int = 64, height: int = 64, seed: int = 2) -> Image.Image:
    """A 'painting': blue-yellow strokes with strong high-frequency texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    stripes = (np.sin((x + 0.7 * y) * 1.3) > 0).astype(float)
    noise = rng.uniform(0, 0.3, size=(height, width))
    red = 0.15 + 0.8 * stripes * (1 - noise)
    green = 0.2 + 0.6 * stripes + noise
    blue = 0.9 - 0.7 * stripes
    array = np.stack([red, green, blue], axis=-1)
    return Image.fromarray((array.clip(0, 1) * 255).astype(np.uint8))


def fill_the_disk(monkeypatch) -> None:
    """Make writes to files fail as on a full disk, from here to the end of the test.

    Path.write_text/write_bytes create the file and raise ENOSPC (the 0-byte file a full
    disk leaves); other Python writes fail at fsync, before anything is renamed into place;
    torch.save to a file leaves a stub and raises RuntimeError, as PyTorch's C++ writer does
    (seen with /dev/full). torch.save into memory still works: memory is not the disk.
    """
    import errno
    import os
    from pathlib import Path

    import torch

    real_save = torch.save

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    def write(self, data, *args, **kwargs):
        self.touch()
        no_space()

    def save(obj, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as stub:
                stub.write(b"PK\x03\x04")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    monkeypatch.setattr(os, "fsync", no_space)
    monkeypatch.setattr(Path, "write_text", write)
    monkeypatch.setattr(Path, "write_bytes", write)


def checkers(width: int = 64, height: int = 64, seed: int = 3) -> Image.Image:
    """A second 'painting', unlike `painting`: red and green checks with soft noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    checks = ((x // 6 + y // 6) % 2).astype(float)
    noise = rng.uniform(0, 0.15, size=(height, width))
    red = 0.85 * checks + noise
    green = 0.1 + 0.6 * (1 - checks) + noise
    blue = 0.1 + noise
    array = np.stack([red, green, blue], axis=-1)
    return Image.fromarray((array.clip(0, 1) * 255).astype(np.uint8))


@contextmanager
def fifo(path, unblock_after: float = 10.0):
    """A FIFO at `path`. Should anything still wait to open or read it after
    `unblock_after` seconds, a writer opens and closes it: a regression then fails its
    test (the reader gets an empty file, and too late) instead of hanging the suite."""
    os.mkfifo(path)
    done = threading.Event()

    def unblock():
        if not done.wait(unblock_after):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader there after all
                pass

    watchdog = threading.Thread(target=unblock, daemon=True)
    watchdog.start()
    started = time.monotonic()
    try:
        yield path
    finally:
        done.set()
        watchdog.join()
    assert time.monotonic() - started < unblock_after, f"{path}: something waited on the FIFO"
