"""The one way in for Impasto's JSON data files: preferences, presets, sessions, model
manifests and the settings embedded in saved images.

Every read goes the same way: a regular file only (a FIFO would hang the window, a link to
/dev/zero would read until memory runs out), at most `max_bytes` read, counted while
reading (a file can grow after a `stat`), nesting at most MAX_DEPTH deep (checked before
the parser recurses: 100 000 `[` overflow Python's stack), no NaN or Infinity, then a
schema of types and ranges. Unknown keys are dropped. Any failure is a DataFileError whose
message names the file and the reason in one line; callers set the file aside
(engine.session.set_aside) and carry on with defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.files import ReadError, open_regular

MAX_DEPTH = 32  # Impasto's own files nest 3 deep; 32 leaves room and stays far from the stack
MAX_TEXT = 4096  # a path, a label or a hash; longer is not one of ours
_CHUNK = 64 * 1024


class DataFileError(ValueError):
    """A data file that cannot be used; str() is one line naming the file and the reason."""


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file `path`, refusing anything else or more than `max_bytes`."""
    path = Path(path)
    try:
        with open_regular(path) as file:
            parts, total = [], 0
            while chunk := file.read(min(_CHUNK, max_bytes + 1 - total)):
                parts.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise DataFileError(f"{path}: too large (over {max_bytes} bytes)")
            return b"".join(parts)
    except ReadError as error:
        raise DataFileError(str(error)) from None
    except OSError as error:
        raise DataFileError(f"{path}: cannot be read ({error.strerror or error})") from error


def parse_json(text: str | bytes, source: str | Path, max_depth: int = MAX_DEPTH) -> object:
    """Strict JSON: bounded nesting, finite numbers only."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise DataFileError(f"{source}: not UTF-8 text") from None
    if _depth(text) > max_depth:
        raise DataFileError(f"{source}: nested more than {max_depth} levels deep")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ValueError as error:  # JSONDecodeError, a huge integer, or a refused number
        reason = str(error).splitlines()[0] if str(error) else "not valid JSON"
        raise DataFileError(f"{source}: not valid JSON ({reason})") from None


def _depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings (an upper bound for invalid JSON)."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf
        raise ValueError(f"{text[:20]} is out of range")
    return value


# --- schema --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """What one key of a data file may hold. `kind` is "int", "number", "bool", "text",
    "object" or "list"; numbers are finite and within [low, high]; `check` may refuse a
    value with a message (or return None). `required` keys must be present."""

    kind: str
    low: float | None = None
    high: float | None = None
    required: bool = False
    nullable: bool = False
    max_length: int = MAX_TEXT
    check: Callable[[object], str | None] | None = None


def validate(data: object, schema: Mapping[str, Field], source: str | Path) -> dict:
    """The known keys of the JSON object `data`, each checked against `schema`."""
    if not isinstance(data, dict):
        raise DataFileError(f"{source}: not a JSON object")
    values = {}
    for key, rule in schema.items():
        if key not in data:
            if rule.required:
                raise DataFileError(f"{source}: {key} is missing")
            continue
        problem = field_problem(data[key], rule)
        if problem:
            raise DataFileError(f"{source}: {key} {problem}")
        values[key] = data[key]
    return values


def field_problem(value: object, rule: Field) -> str | None:
    """Why `value` does not fit `rule` ("must be ..."), or None."""
    if value is None and rule.nullable:
        return None
    kind = rule.kind
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
    elif kind == "text":
        ok = isinstance(value, str)
    elif kind == "object":
        ok = isinstance(value, dict)
    elif kind == "list":
        ok = isinstance(value, (list, tuple))  # JSON gives lists; RunSettings holds tuples
    else:
        raise ValueError(f"unknown field kind {kind!r}")
    if not ok:
        return f"must be {_describe(rule)}"
    if kind in ("int", "number") and not _in_range(value, rule):
        return f"must be {_describe(rule)}"
    if kind in ("text", "list") and len(value) > rule.max_length:
        return f"is too long (at most {rule.max_length})"
    if kind == "text" and ("\x00" in value or not _encodable(value)):
        return "must be text without NUL characters or lone surrogates"
    return rule.check(value) if rule.check else None


def _encodable(text: str) -> bool:
    # JSON's \ud800 is a lone surrogate: no file name, and saving it as UTF-8 fails later.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _in_range(value: float, rule: Field) -> bool:
    return (rule.low is None or value >= rule.low) and (rule.high is None or value <= rule.high)


def _describe(rule: Field) -> str:
    noun = {"bool": "true or false", "int": "a whole number", "number": "a finite number",
            "text": "text", "object": "a JSON object", "list": "a list"}[rule.kind]  # fmt: skip
    if rule.low is not None and rule.high is not None:
        noun += f" from {_number(rule.low)} to {_number(rule.high)}"
    elif rule.low is not None:
        noun += f" of at least {_number(rule.low)}"
    return noun


def _number(value: float) -> str:
    """2147483647 in full, 1e+12 short."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e10 else f"{value:g}"


def load_json(path: Path, schema: Mapping[str, Field] | None, max_bytes: int) -> dict:
    """Read, parse and validate the JSON object in `path` (schema None: any object)."""
    data = parse_json(read_bounded(path, max_bytes), path)
    if schema is None:
        if not isinstance(data, dict):
            raise DataFileError(f"{path}: not a JSON object")
        return data
    return validate(data, schema, path)
