"""Opening and writing files safely.

Every file Impasto reads is opened by open_regular: a regular file only, so a FIFO cannot
hang a command or the window and a link to /dev/zero cannot read forever. Every file it
writes is written without ever leaving half of one: a temporary file beside the target,
flushed to disk, then renamed over it. On failure the temporary file is removed and the
error names the user's path, never the temporary one."""

from __future__ import annotations

import errno
import glob
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# Read once at import (os.umask can only be read by setting it): written files get the
# permissions any new file would, not the private 0600 of a temporary file.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
MAX_SET_ASIDE = 5  # damaged files kept for inspection, per file
WriteTo = Callable[[BinaryIO], object]  # writes a file's contents to the open binary file


class SaveError(OSError):
    """A file that could not be written; str() is one line naming the file and the reason."""

    def __init__(self, path: Path, error: OSError):
        super().__init__(error.errno, describe_os_error(error))
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: could not save ({self.strerror})"


def describe_os_error(error: OSError) -> str:
    """Why a write failed, in words ("the disk is full", not "[Errno 28]")."""
    if isinstance(error, SaveError):
        return error.strerror
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error) or type(error).__name__


class ReadError(OSError):
    """A file that cannot be opened for reading; str() is one line naming it and why."""

    def __init__(self, path: Path, reason: str):
        super().__init__(reason)
        self.path, self.reason = Path(path), reason

    def __str__(self) -> str:
        return f"{shorten(self.path)}: {self.reason}"


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """`path` opened for reading in binary, if it is a regular file (links followed);
    ReadError naming the file and the reason otherwise."""
    path = Path(path)
    # O_NONBLOCK: opening a FIFO for reading must not wait for a writer (regular files
    # ignore the flag). Windows has no FIFOs and no flag.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ReadError(path, "file not found") from None
    except PermissionError:
        raise ReadError(path, "permission denied") from None
    except OSError as error:
        if error.errno == errno.ENXIO:  # a socket
            raise ReadError(path, "not a regular file") from None
        raise ReadError(path, f"cannot be read ({describe_path_error(error)})") from None
    try:
        # fstat of what was opened, not a stat of the name: the name can change in between.
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ReadError(path, "is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise ReadError(path, "not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def describe_path_error(error: OSError | RuntimeError) -> str:
    """Why the OS refused a path, in words: too long, a loop of links, or as for a write.
    (pathlib's resolve() raises RuntimeError for a loop on Python before 3.13.)"""
    if isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP:
        return "a loop of symbolic links"
    if error.errno == errno.ENAMETOOLONG:
        return "the name is too long for the file system"
    return describe_os_error(error)


def resolved(path: Path) -> Path:
    """`path` with links followed, for telling two names of one file apart; where the OS
    refuses that (a loop of links), the path as given, made absolute."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path).absolute()


def shorten(path: Path | str, keep: int = 80) -> str:
    """`path` for a one-line message: a 5000-character path keeps its two ends."""
    text = str(path)
    return text if len(text) <= 2 * keep else f"{text[:keep]}…{text[-keep:]}"


STALE_TEMPORARY_S = 60  # a save takes seconds; an older temporary file was left by a crash


def sweep_temporaries(path: Path) -> None:
    """Remove the temporary files an earlier save of `path` left behind (killed, crashed).

    Only Impasto's own pattern, `.NAME.` + tempfile's 8 random characters + `.tmp`, and
    only regular files older than a minute: another save of `path` may be under way.
    """
    path = Path(path)
    prefix = temporary_prefix(path)
    own = re.compile(rf"{re.escape(prefix)}[a-z0-9_]{{8}}\.tmp")
    now = time.time()
    for temp in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        try:
            info = temp.lstat()
            if (own.fullmatch(temp.name) and stat.S_ISREG(info.st_mode)
                    and now - info.st_mtime > STALE_TEMPORARY_S):  # fmt: skip
                temp.unlink()
        except OSError:  # gone already, or not ours to remove: the save goes on
            pass


def name_max(folder: Path) -> int:
    """The longest file name `folder`'s file system takes, in bytes (255 on most)."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such folder, or no pathconf (Windows)
        return 255


def temporary_prefix(path: Path) -> str:
    """`.NAME.`, cut short where needed so that the temporary name (this, tempfile's 8
    random characters and `.tmp`) fits wherever NAME does: a legal 249-character name
    would otherwise fail at the very end of a run, on its temporary name."""
    name, limit = path.name, name_max(path.parent) - len("XXXXXXXX.tmp")
    while len(os.fsencode(f".{name}.")) > limit and name:
        name = name[:-1]
    return f".{name}."


class FileLock:
    """An exclusive lock on the file or folder `path` (a file is made if missing), held
    until release(). The OS drops a process's locks when it ends, so a crash or kill -9
    never leaves one behind. Another process, or another FileLock in this one, cannot hold
    it at the same time. Locking a folder raises OSError where the OS cannot (Windows)."""

    def __init__(self, path: Path):
        self.path, self._fd = Path(path), None

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock (waiting for it, unless not `wait`); False if another holds it."""
        folder = self.path.is_dir()
        fd = os.open(self.path, os.O_RDONLY if folder else os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _lock(fd, wait):
                os.close(fd)
                return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


@contextmanager
def locked_if_possible(path: Path) -> Iterator[None]:
    """Hold `path`'s FileLock for the block; where the OS cannot make or take it (a
    read-only folder, a folder on Windows) the block runs unlocked."""
    lock = FileLock(path)
    try:
        lock.acquire()
    except OSError:
        pass
    try:
        yield
    finally:
        lock.release()


def _lock(fd: int, wait: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def write_temporary(path: Path, data: bytes | str | WriteTo) -> Path:
    """`data` in a new temporary file in `path`'s folder, on disk; the caller renames it
    (move_into_place). `data` may be a function that writes to the open binary file: an
    image encoder, say, that should not hold a second copy of the file in memory.

    Raises SaveError naming `path` when the disk fails, or whatever `data` raised;
    nothing is left behind then.
    """
    path = Path(path)
    sweep_temporaries(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=temporary_prefix(path), suffix=".tmp", delete=False
        ) as file:
            temp = Path(file.name)
            if callable(payload):
                payload(file)
            else:
                file.write(payload)
            file.flush()
            os.fsync(file.fileno())  # on disk before any rename can make it the file
        os.chmod(temp, 0o666 & ~_UMASK)
    except BaseException as error:  # a writer's own error, or Ctrl+C, leaves nothing either
        if temp is not None:
            temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise SaveError(path, error) from error
        raise
    return temp


def move_into_place(temp: Path, path: Path) -> None:
    """Rename `temp` (from write_temporary) over `path` in one step; SaveError naming `path`
    if that fails, and `temp` is removed."""
    try:
        os.replace(temp, path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise SaveError(Path(path), error) from error


def write_atomically(path: Path, data: bytes | str | WriteTo) -> None:
    """Replace `path` with `data` (or what `data(file)` writes) in one step: a failure
    leaves the old file as it was and no temporary file."""
    path = Path(path)
    move_into_place(write_temporary(path, data), path)


def set_aside(path: Path, label: str = "damaged", keep: int = MAX_SET_ASIDE) -> Path | None:
    """Move a damaged file or folder out of the way, keeping it for the user to inspect.

    Each one gets its own time-stamped name (a second one in the same second is numbered),
    so an earlier copy is never overwritten; only the `keep` newest are kept.
    """
    if not os.path.lexists(path):  # a dangling link is set aside too
        return None
    stem = f"{path.name}.{label}-"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    earlier = sorted(path.parent.glob(f"{glob.escape(stem)}*"), key=lambda p: _aside_order(p, stem))
    # Within one second, count on from the newest (not the first free name: pruning frees
    # old names, and reusing one would file the newest copy as the oldest).
    same_second = [_aside_order(p, stem)[1] for p in earlier if _aside_order(p, stem)[0] == stamp]
    name = f"{stem}{stamp}-{max(same_second) + 1}" if same_second else f"{stem}{stamp}"
    target = path.with_name(name)
    shutil.move(str(path), target)
    kept = [*earlier, target]  # oldest first: the time stamp, then the number within a second
    for old in kept[:-keep] if keep > 0 else []:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    return target


def _aside_order(path: Path, stem: str) -> tuple[str, int]:
    rest = path.name.removeprefix(stem)  # "20250101-120000" or "20250101-120000-2"
    stamp, number = rest[:15], rest[16:]
    return stamp, int(number) if number.isdigit() else 1
