"""Bounded readers for JSON files, JSON arrays and JSON Lines that report where a bad record is.

Every reader checks a record's size and nesting depth (`Limits`) before it is expanded into
Python values; a record over a limit becomes `Rejected` with its place and the limit, and
reading goes on with the next one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest._scan import ITEM, Broken, Mismatch, Piece, Step, scan_records
from coachgraph.calltree.ingest._structure import closed_prefix, shallow
from coachgraph.calltree.ingest.base import Rejected, excerpt
from coachgraph.calltree.ingest.limits import Held, Limits
from coachgraph.errors import InputError, InputLimitError

__all__ = ["WHOLE_FILE_LIMIT", "BadJson", "iter_json_array", "iter_jsonl", "load_json",
           "parse_prefix", "walk"]

WHOLE_FILE_LIMIT = 32 * 1024 * 1024
"""Files up to this size (and `Limits.max_held_bytes`) are parsed in one pass, several times
faster than scanning; larger ones, and any that fail to parse whole, are scanned record by
record, so memory stays bounded."""

_DEFAULT = Limits()


class BadJson(Rejected):
    """The file cannot be read past this point; readers stop reading it."""


def parse_prefix(prefix: str) -> tuple[Step, ...]:
    """Path steps from a dotted prefix (`item` for array elements, other parts object keys).

    >>> parse_prefix("resourceSpans.item"), parse_prefix("item")
    (('resourceSpans', None), (None,))
    """
    return tuple(ITEM if part == "item" else part for part in prefix.split(".") if part)


def walk(value: Any, steps: tuple[Step, ...], label: str = "$") -> Iterator[tuple[str, Any]]:
    """The values at `steps` in a parsed document, with their JSON paths; a value of the wrong
    kind on the way yields a `Mismatch` (absent keys yield nothing), as the scanner does."""
    if not steps:
        yield label, value
        return
    step, rest = steps[0], steps[1:]
    if step is ITEM:
        if not isinstance(value, list):
            yield label, Mismatch(label, "expected an array here")
            return
        for index, element in enumerate(value):
            yield from walk(element, rest, f"{label}[{index}]")
    elif not isinstance(value, dict):
        yield label, Mismatch(label, "expected an object here")
    elif step in value:
        yield from walk(value[step], rest, f"{label}.{step}")


def iter_json_array(path: Path, prefix: str = "item", limits: Limits = _DEFAULT, *,
                    held: Held | None = None) -> Iterator[tuple[str, Any]]:
    """Yield `(source, value)` for each record at `prefix` (e.g. `traces.item`), in file order.

    A record over a limit, or a value of the wrong kind on the way to the records, is yielded
    as `Rejected` and reading goes on; where the file breaks off or is malformed, a final
    `BadJson` names the place and reading stops. With `held` (the caller keeps every record
    until its trace is complete, possibly across files), each record's bytes are counted
    there, and going over its limit also ends the file with a `BadJson`. Small files are
    parsed whole, larger ones scanned; both yield the same.
    """
    steps = parse_prefix(prefix)
    document = _whole_file(path, steps, limits, held)
    if document is not _UNPARSED:
        for label, value in walk(document, steps):
            yield f"{path}:{label}", (_mismatch(path, value) if isinstance(value, Mismatch)
                                      else value)
        return
    yield from _scanned(path, steps, limits, held)


_UNPARSED = object()


def _whole_file(path: Path, steps: tuple[Step, ...], limits: Limits, held: Held | None) -> Any:
    """The parsed document of a small file within every limit, or `_UNPARSED` to scan it.

    A file that cannot be parsed whole (too deep somewhere, or broken) is scanned, so each bad
    record is reported as the scanner finds it, with every good one still read; so is one
    that would take `held` over its limit, so the record that does is named.
    """
    size = path.stat().st_size
    if size > min(WHOLE_FILE_LIMIT, limits.max_held_bytes, limits.max_record_bytes) or (
            held is not None and not held.fits(size)):
        return _UNPARSED
    try:
        document = loads(path.read_bytes(), max_depth=limits.max_depth + len(steps))
    except ValueError:
        return _UNPARSED
    if held is not None:
        held.take(size)
    return document


def _scanned(path: Path, steps: tuple[Step, ...], limits: Limits, held: Held | None
             ) -> Iterator[tuple[str, Any]]:
    with path.open("rb") as handle:
        for found in scan_records(handle, steps, limits.max_record_bytes,
                                  limits.kept_record_bytes):
            source = f"{path}:{found.label}"
            if isinstance(found, Broken):
                yield source, BadJson(source=source, reason=f"invalid JSON: {found.reason}")
                return
            if isinstance(found, Mismatch):
                yield source, _mismatch(path, found)
                continue
            if held is not None and not held.take(found.size):
                yield source, BadJson(source=source, reason=limits.over_held())
                return
            value = _record(source, found, limits)
            yield source, value
            if isinstance(value, BadJson):
                return


def _mismatch(path: Path, found: Mismatch) -> Rejected:
    return Rejected(source=f"{path}:{found.label}", reason=found.reason)


def _record(source: str, piece: Piece, limits: Limits) -> Any:
    """Parse one scanned record, unless it is over a limit (then a `Rejected` with its head)."""
    if piece.data is None:
        return _too_big(source, piece.head, limits, piece.size)
    if piece.depth > limits.max_depth:
        return _too_deep(source, piece.data, limits, piece.depth)
    try:
        return loads(piece.data, max_depth=limits.max_depth)
    except InputError as exc:
        return Rejected(source=source, reason=str(exc), **excerpt(piece.data, limits))
    except ValueError as exc:
        return BadJson(source=source, reason=f"invalid JSON: {_json_reason(exc)}",
                       **excerpt(piece.data, limits))


def _too_deep(source: str, data: bytes, limits: Limits, depth: int | None = None) -> Rejected:
    """A record over the depth limit, with what can be read of its top levels."""
    return Rejected(source=source, reason=limits.over_depth(depth), partial=_top(data),
                    **excerpt(data, limits))


def _too_big(source: str, head: bytes, limits: Limits, size: int) -> Rejected:
    """A record over the size limit, with what can be read of its top levels in its head."""
    prefix = closed_prefix(head)
    return Rejected(source=source, reason=limits.over_size(size),
                    partial=_top(prefix) if prefix is not None else None,
                    **excerpt(head, limits, size=size))


def _top(data: bytes) -> Any:
    """The top two levels of a record's text, deeper values null (None: unreadable)."""
    top = shallow(data)
    try:
        return loads(top, max_depth=2) if top is not None else None
    except ValueError:
        return None


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno} column {exc.colno} of the record)"
    return str(exc)


def iter_jsonl(path: Path, limits: Limits = _DEFAULT, *, held: Held | None = None
               ) -> Iterator[tuple[str, Any]]:
    """Yield `(source, value)` per non-blank line, or `(source, Rejected)` for a line that is
    not JSON or is over a limit; a line is never read further than the record size limit.
    With `held`, each line's bytes are counted there, as `iter_json_array` does."""
    with path.open("rb") as handle:
        for number, line in enumerate(iter(lambda: handle.readline(
                limits.max_record_bytes + 1), b""), start=1):
            source = f"{path}:{number}"
            size = len(line.rstrip(b"\r\n"))
            if size > limits.max_record_bytes:
                size += 0 if line.endswith(b"\n") else _skip_line(handle)
                yield source, _too_big(source, line[:limits.kept_record_bytes], limits, size)
                continue
            if held is not None and not held.take(size):
                yield source, BadJson(source=source, reason=limits.over_held())
                return
            if size:
                yield source, _line(source, line, limits)


def _line(source: str, line: bytes, limits: Limits) -> Any:
    try:
        return loads(line, max_depth=limits.max_depth)
    except InputLimitError:
        return _too_deep(source, line, limits)
    except InputError as exc:
        return Rejected(source=source, reason=str(exc), **excerpt(line, limits))
    except ValueError as exc:
        return Rejected(source=source, reason=f"invalid JSON: {_json_reason(exc)}",
                        **excerpt(line, limits))


def _skip_line(handle: Any) -> int:
    """Read past the rest of an over-long line without keeping it; returns the bytes skipped."""
    skipped = 0
    while chunk := handle.readline(1 << 20):
        skipped += len(chunk.rstrip(b"\r\n"))
        if chunk.endswith(b"\n"):
            break
    return skipped


def load_json(path: Path, limits: Limits = _DEFAULT) -> tuple[str, Any]:
    """Parse a one-record JSON file within the limits; a parse error becomes `BadJson` with its
    line, and a file over a limit `Rejected` naming it."""
    size = path.stat().st_size
    if size > limits.max_record_bytes:
        with path.open("rb") as handle:
            head = handle.read(limits.kept_record_bytes)
        return str(path), _too_big(str(path), head, limits, size)
    data = path.read_bytes()
    try:
        return str(path), loads(data, max_depth=limits.max_depth)
    except InputLimitError:
        return str(path), _too_deep(str(path), data, limits)
    except InputError as exc:
        return str(path), Rejected(source=str(path), reason=str(exc), **excerpt(data, limits))
    except json.JSONDecodeError as exc:
        source = f"{path}:{exc.lineno}"
        return source, BadJson(source=source, reason=f"invalid JSON: {exc.msg}",
                               **excerpt(data, limits))
    except UnicodeDecodeError as exc:
        return str(path), BadJson(source=str(path), reason=f"invalid UTF-8: {exc}",
                                  **excerpt(data, limits))
