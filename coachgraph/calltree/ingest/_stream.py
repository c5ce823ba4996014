"""Streaming readers for JSON arrays and JSON Lines that report where a bad record is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson
import orjson

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest.base import Rejected

__all__ = ["WHOLE_FILE_LIMIT", "BadJson", "iter_json_array", "iter_jsonl", "load_json"]

WHOLE_FILE_LIMIT = 32 * 1024 * 1024
"""Array files up to this size are parsed in one pass, several times faster than event
streaming; larger ones stream element by element, so memory stays bounded."""


class BadJson(Rejected):
    """The file cannot be parsed past this point; readers stop reading it."""


def iter_jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    """Yield `(source, value)` per non-blank line, or `(source, BadJson)` for unparsable lines."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            source = f"{path}:{number}"
            try:
                yield source, loads(line)
            except (ValueError, UnicodeDecodeError) as exc:
                yield source, Rejected(source=source, reason=f"invalid JSON: {exc}")


def iter_json_array(path: Path, prefix: str = "item", label: str = "$") -> Iterator[tuple[str, Any]]:
    """Yield `(source, value)` for each element of the array at `prefix`, one at a time.

    `label` is the JSON path shown in sources (e.g. `$.traces`); when the file breaks off or
    is malformed, a final `BadJson` names the element being read and reading stops. Files up
    to `WHOLE_FILE_LIMIT` are parsed in one pass, larger ones streamed; both yield the same.
    """
    values = _whole_file(path, prefix)
    if values is None:
        values = _stream_items(path, prefix, label)
    for index, value in enumerate(values):
        if isinstance(value, BadJson):
            yield value.source, value
            return
        yield f"{path}:{label}[{index}]", value


def _whole_file(path: Path, prefix: str) -> list[Any] | None:
    """The elements at `prefix` of a small well-formed file, or None to stream it instead.

    A file orjson cannot read is streamed, so a broken file is reported exactly as the
    streaming parser sees it (with every element before the break still yielded).
    """
    if path.stat().st_size > WHOLE_FILE_LIMIT:
        return None
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None
    return list(_at(document, prefix.split(".") if prefix else []))


def _at(value: Any, parts: list[str]) -> Iterator[Any]:
    """The values at an ijson prefix: `item` steps into array elements, other parts into keys."""
    if not parts:
        yield value
        return
    head, rest = parts[0], parts[1:]
    if head == "item" and isinstance(value, list):
        for element in value:
            yield from _at(element, rest)
    elif isinstance(value, dict) and head in value:
        yield from _at(value[head], rest)


def _stream_items(path: Path, prefix: str, label: str) -> Iterator[Any]:
    index = 0
    with path.open("rb") as handle:
        try:
            for value in ijson.items(handle, prefix, use_float=True):
                yield value
                index += 1
        except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
            source = f"{path}:{label}[{index}]"
            yield BadJson(source=source, reason=f"invalid JSON: {exc}")


def load_json(path: Path) -> tuple[str, Any]:
    """Parse a small one-record JSON file; a parse error becomes `BadJson` with its line."""
    try:
        return str(path), loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        source = f"{path}:{exc.lineno}"
        return source, BadJson(source=source, reason=f"invalid JSON: {exc.msg}")
    except UnicodeDecodeError as exc:
        return str(path), BadJson(source=str(path), reason=f"invalid UTF-8: {exc}")
