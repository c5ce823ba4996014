"""The bounds every ingest reader keeps: nesting depth, record size and bytes held at once.

Each is checked on the raw bytes (or while parsing), before a record is expanded into Python
values, so no input can make a reader build more than these allow. A record over a limit is
rejected with its place and the limit's name, and the reader goes on with the next record.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from coachgraph.calltree._json import MAX_DEPTH

__all__ = ["Held", "Limits", "format_size", "parse_size"]

_MIB = 1024 * 1024


class Limits(BaseModel):
    """The reader limits of one ingest run (the CLI sets them with `--max-*` options)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_depth: int = Field(MAX_DEPTH, ge=1, le=160)
    """Arrays and objects nested in one record (a span, a run, a trace record, a log file).
    At most 160: a stored tree wraps a few levels around each value, and stores read back
    nothing deeper than about 200."""
    max_record_bytes: int = Field(64 * _MIB, ge=1)
    """Bytes of one record as it stands in the input."""
    max_held_bytes: int = Field(512 * _MIB, ge=1)
    """Input bytes a reader holds at once: a file read in one pass, or the records that wait
    for their traces: a LangSmith file's runs until the file ends, the spans of every file of
    a span input (a trace may lie in several) until its last file ends."""
    kept_record_bytes: int = Field(64 * 1024, ge=0)
    """How much of a rejected record the quarantine keeps (its full size is noted beside it)."""

    def over_size(self, size: int) -> str:
        """The reason given for a record of `size` bytes over `max_record_bytes`."""
        return (f"record is {format_size(size)}, over the record size limit of "
                f"{format_size(self.max_record_bytes)} (--max-record-size)")

    def over_depth(self, depth: int | None = None) -> str:
        """The reason given for a record nested deeper than `max_depth` (`depth` when known)."""
        if depth is None:
            return (f"record nests deeper than the depth limit of {self.max_depth} levels "
                    "(--max-depth)")
        return (f"record nests {depth} levels deep, over the depth limit of {self.max_depth} "
                "(--max-depth)")

    def over_held(self) -> str:
        """The reason given when an input needs more than `max_held_bytes` held at once."""
        return (f"more than {format_size(self.max_held_bytes)} of records wait for their "
                "traces here, over the memory limit (--max-held); raise it, or split the input "
                "by trace")


class Held:
    """The input bytes of the records one reading holds until their traces are complete,
    counted against `Limits.max_held_bytes` across every file that reading joins."""

    __slots__ = ("bytes", "limit")

    def __init__(self, limit: int) -> None:
        self.limit, self.bytes = limit, 0

    def fits(self, size: int) -> bool:
        """Whether `size` more bytes can be held within the limit."""
        return self.bytes + size <= self.limit

    def take(self, size: int) -> bool:
        """Count `size` more bytes as held; False when that goes over the limit.

        >>> held = Held(10)
        >>> held.take(6), held.fits(4), held.take(6)
        (True, True, False)
        """
        self.bytes += size
        return self.bytes <= self.limit


_UNITS = {"": 1, "k": 1024, "m": _MIB, "g": 1024 * _MIB}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes from a size such as `512`, `64K`, `64MiB` or `1.5G` (binary units); a number of
    bytes is taken as it is.

    >>> parse_size("64M"), parse_size("1.5 GiB"), parse_size("100"), parse_size(7)
    (67108864, 1610612736, 100, 7)
    """
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 512K, 64M or 1G)")
    size = int(float(match[1]) * _UNITS[match[2].lower()])
    if size < 1:
        raise ValueError(f"a size must be at least 1 byte, not {text!r}")
    return size


def format_size(size: int) -> str:
    """A byte count for messages, in the largest binary unit that keeps it at least 1.

    >>> format_size(512), format_size(64 * 1024 * 1024), format_size(1536)
    ('512 B', '64 MiB', '1.5 KiB')
    """
    for unit, factor in (("GiB", 1024 * _MIB), ("MiB", _MIB), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} B"
