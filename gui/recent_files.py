"""Recently opened photos and paintings, newest first, for File ▸ Open Recent. Kept in the
JSON preferences as [kind, path] pairs (never pickled); the preferences' schema checks them
when they are read (RECENT_RULE)."""

from __future__ import annotations

from pathlib import Path

from engine.datafile import Field

MAX_RECENT = 10
KINDS = ("photo", "painting")


def _pairs(items) -> str | None:
    for item in items:
        if not (isinstance(item, list) and len(item) == 2 and item[0] in KINDS
                and isinstance(item[1], str) and 0 < len(item[1]) <= 4096):  # fmt: skip
            return "items must be [photo or painting, path]"
    return None


RECENT_RULE = Field("list", max_length=MAX_RECENT, check=_pairs)


def recent_files(preferences) -> list[tuple[str, str]]:
    """(kind, path) of the files opened lately, newest first."""
    return [(kind, path) for kind, path in preferences.get("recent_files") or []]


def remember_file(preferences, kind: str, path: str) -> None:
    """Put `path` first; an older entry of the same file and kind gives way."""
    entry = [kind, str(Path(path).resolve())]
    older = [list(item) for item in recent_files(preferences) if list(item) != entry]
    preferences.set("recent_files", [entry, *older][:MAX_RECENT])


def forget_file(preferences, kind: str, path: str) -> None:
    kept = [list(item) for item in recent_files(preferences) if item != (kind, path)]
    preferences.set("recent_files", kept)
