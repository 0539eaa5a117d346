"""Atomic writes: a failed write leaves the old file and no temporary file, and says so in
words that name the user's file."""

import errno
import os

import pytest

from engine.files import SaveError, write_atomically


def test_write_replaces_the_file(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("old")
    write_atomically(path, "new")
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["notes.json"]


def test_a_full_disk_keeps_the_old_file_and_names_it(tmp_path, monkeypatch):
    path = tmp_path / "notes.json"
    path.write_text("old")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(SaveError) as caught:
        write_atomically(path, "new")
    assert str(caught.value) == f"{path}: could not save (the disk is full)"
    assert caught.value.errno == errno.ENOSPC  # still an OSError callers can inspect
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["notes.json"]


def test_a_missing_folder_is_named(tmp_path):
    path = tmp_path / "gone" / "notes.json"
    with pytest.raises(SaveError, match="gone/notes.json: could not save"):
        write_atomically(path, "text")
