"""Finds the records of a JSON file in its raw bytes, chunk by chunk, without parsing them.

Used where a file cannot simply be parsed whole: it is large, or nested too deep somewhere, or
broken. Each chunk is classified with numpy (escapes, string interiors, bracket depth), and only
the few structural bytes at the levels above the records are walked in Python, so every
record's byte range, size and nesting depth are known before any of it is parsed. A record
over the size limit is never held beyond the bytes the quarantine keeps of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from coachgraph.calltree.ingest._structure import CLOSES, OPENS, Structure

__all__ = ["ITEM", "Broken", "Mismatch", "Piece", "label_of", "scan_records"]

ITEM = None
"""A path step meaning "every element of this array" (a key step names an object's member)."""

Step = str | None

_CHUNK = 1 << 20
_QUOTE, _COMMA, _COLON = 34, 44, 58
_PAIRS = {93: 91, 125: 123}
_KEY_LIMIT = 4096
"""Keys longer than this are never a path step; their text is not kept."""


@dataclass(slots=True)
class Piece:
    """One record: its JSON path, size and depth, and its bytes (None when over the size limit,
    then `head` holds the first bytes kept for the quarantine)."""

    label: str
    size: int
    depth: int
    data: bytes | None
    head: bytes = b""


@dataclass(slots=True)
class Mismatch:
    """A value on the way to the records has the wrong type; the scan goes on after it."""

    label: str
    reason: str


@dataclass(slots=True)
class Broken:
    """The file cannot be read past this place; the scan stops."""

    label: str
    reason: str


def label_of(steps: tuple[Step, ...], indices: list[int]) -> str:
    """The JSON path of a value reached through `steps`, with one index per array step.

    >>> label_of(("traces", None), [3]), label_of((None,), [0]), label_of((), [])
    ('$.traces[3]', '$[0]', '$')
    """
    parts, numbers = ["$"], iter(indices)
    for step in steps:
        parts.append(f"[{next(numbers)}]" if step is ITEM else f".{step}")
    return "".join(parts)


@dataclass
class _Frame:
    level: int
    opener: int
    step: Step
    index: int = 0
    state: str = "key"
    key: bytes | None = None
    opened_at: int = 0
    filled: bool = False
    """For arrays: the current element is a container (so not a misplaced scalar)."""


@dataclass
class _Record:
    start: int
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    deepest: int = 0
    over: bool = False
    head: bytes = b""


class _Scanner:
    """The state carried from chunk to chunk while walking one file."""

    def __init__(self, steps: tuple[Step, ...], max_record: int, kept: int) -> None:
        self.steps, self.target = steps, len(steps)
        self.max_record, self.kept = max_record, kept
        self.text = Structure()
        self.frames: list[_Frame] = []
        self.record: _Record | None = None
        self.key_from: int | None = None
        self.key_parts: list[bytes] = []
        self.closed_at: int | None = None
        self.rooted = ""
        """How the top-level value began: "open" (on the path), "skipping" (a container of the
        wrong kind) or "scalar"; empty before it begins."""
        self.broken = False
        self.content = False
        """Whether anything but white space came before the top-level value began."""
        self.out: list[Piece | Mismatch | Broken] = []

    @property
    def done(self) -> bool:
        return self.broken or self.closed_at is not None

    # -- vectorised classification of one chunk -------------------------------------------

    def classify(self, chunk: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The shallow events of a chunk: their positions, their levels, and the deepest
        nesting reached before each (the last entry: after the last event).

        Only quotes and structural bytes are looked at, as sparse position arrays: quotes
        decide which structural bytes lie inside strings, and the depth changes only at
        brackets, so the deepest point between two events is the deepest bracket between them.
        """
        start = self.text.depth
        marks, delta, after, quotes = self.text.feed(chunk)
        level = after - (delta > 0)
        previous = np.searchsorted(marks, quotes) - 1
        quote_level = (np.where(previous >= 0, after[np.maximum(previous, 0)], start)
                       if after.size else np.full(quotes.size, start))
        positions = np.concatenate((marks, quotes))
        levels = np.concatenate((level, quote_level))
        shallow = levels <= self.target
        positions, levels = positions[shallow], levels[shallow]
        order = np.argsort(positions, kind="stable")
        positions, levels = positions[order], levels[order]
        deepest = _segment_maxima(after, np.searchsorted(marks, positions))
        return positions, levels, deepest

    # -- walking the shallow structure -----------------------------------------------------

    def feed(self, chunk: bytes, base: int) -> None:
        """Walk one chunk whose first byte is at file offset `base`."""
        if not self.rooted and not self.content:
            self.content = bool(chunk.strip())
        positions, levels, deepest = self.classify(chunk)
        if self.text.depth < 0:
            self._break("a closing bracket has no opening one")
            return
        for position, level, before in zip(positions.tolist(), levels.tolist(),
                                           deepest[:-1].tolist(), strict=True):
            self._grow(before)
            self._event(chunk, position, base, level)
            if self.done:
                return
        self._grow(int(deepest[-1]))
        self._carry(chunk, base)

    def _grow(self, deepest: int) -> None:
        if self.record is not None:
            self.record.deepest = max(self.record.deepest, deepest)

    def _event(self, chunk: bytes, position: int, base: int, level: int) -> None:
        """One structural byte at `level`; those inside skipped values are passed over."""
        byte = chunk[position]
        if not self.frames:
            self._top(byte, level, base + position)
            return
        frame = self.frames[-1]
        if level > frame.level + 1:
            return
        if byte in CLOSES and level == frame.level:
            self._close(frame, byte, chunk, position, base)
        elif frame.step is ITEM:
            self._in_array(frame, byte, chunk, position, base)
        else:
            self._in_object(frame, byte, chunk, position, base)

    def _top(self, byte: int, level: int, offset: int) -> None:
        """An event outside every container on the path: the top-level value begins or ends
        (a top-level value of the wrong kind is passed over whole)."""
        if self.rooted == "skipping":
            if level == 0 and byte in CLOSES:
                self.closed_at = offset
        elif self.rooted == "scalar" and byte == _QUOTE:
            return
        elif self.rooted:
            self._break("more than one value at the top level")
        elif byte in OPENS:
            self.rooted = "open" if self._open(byte, 0, offset) else "skipping"
        elif byte == _QUOTE:
            self.rooted = "scalar"
        else:
            self._break("more than one value at the top level")

    def _open(self, byte: int, level: int, offset: int) -> bool:
        """Enter a container on the path to the records (False: wrong kind, it is skipped)."""
        step = self.steps[level]
        if (byte == OPENS[0]) != (step is ITEM):
            kind = "an array" if step is ITEM else "an object"
            self.out.append(Mismatch(self._label(level), f"expected {kind} here"))
            return False
        self.frames.append(_Frame(level=level, opener=byte, step=step, opened_at=offset))
        if level == self.target - 1:
            self.record = _Record(start=offset + 1)
        return True

    def _close(self, frame: _Frame, byte: int, chunk: bytes, position: int, base: int) -> None:
        if _PAIRS[byte] != frame.opener:
            self._break("a bracket closes one of another kind")
            return
        if frame.step is ITEM:
            self._element_ends(frame, chunk, position, base, last=True)
        elif frame.state == "value":
            self._scalar_value(frame)
        self.frames.pop()
        if not self.frames:
            self.closed_at = base + position

    def _in_array(self, frame: _Frame, byte: int, chunk: bytes, position: int, base: int) -> None:
        if byte == _COMMA:
            self._element_ends(frame, chunk, position, base, last=False)
            frame.index += 1
            frame.filled = False
            if frame.level == self.target - 1:
                self.record = _Record(start=base + position + 1)
        elif frame.level < self.target - 1 and byte in OPENS:
            frame.filled = True
            self._open(byte, frame.level + 1, base + position)

    def _element_ends(self, frame: _Frame, chunk: bytes, position: int, base: int, *,
                      last: bool) -> None:
        if frame.level == self.target - 1:
            self._finish(chunk, position, base, last=last)
        elif not frame.filled and (not last or frame.index > 0 or _holds(
                chunk, frame.opened_at - base + 1, position)):
            self.out.append(Mismatch(self._label(frame.level + 1), "expected an object here"))

    def _in_object(self, frame: _Frame, byte: int, chunk: bytes, position: int, base: int) -> None:
        if frame.state == "key" and byte == _QUOTE:
            if self.key_from is None:
                self.key_from, self.key_parts = base + position + 1, []
            else:
                frame.key = self._key(chunk, position, base)
                self.key_from = None
        elif byte == _COLON:
            frame.state = "value"
        elif byte == _COMMA:
            if frame.state == "value":
                self._scalar_value(frame)
            frame.state, frame.key = "key", None
        elif byte in OPENS and frame.state == "value":
            frame.state = "done"
            if frame.key == frame.step.encode():
                self._open(byte, frame.level + 1, base + position)

    def _scalar_value(self, frame: _Frame) -> None:
        """The member just ended held no container: a misplaced scalar when it is the step."""
        if frame.step is not ITEM and frame.key == frame.step.encode():
            kind = "an array" if self.steps[frame.level + 1] is ITEM else "an object"
            self.out.append(Mismatch(self._label(frame.level + 1), f"expected {kind} here"))

    def _key(self, chunk: bytes, position: int, base: int) -> bytes | None:
        assert self.key_from is not None
        text = b"".join([*self.key_parts, chunk[max(self.key_from - base, 0):position]])
        return text if len(text) <= _KEY_LIMIT else None

    def _label(self, level: int) -> str:
        indices = [f.index for f in self.frames[:level] if f.step is ITEM]
        return label_of(self.steps[:level], indices)

    # -- records -----------------------------------------------------------------------------

    def _finish(self, chunk: bytes, position: int, base: int, *, last: bool) -> None:
        record = self.record
        if record is None:
            return
        self._take(record, chunk[max(record.start - base, 0):position])
        self.record = None
        data = None if record.over else b"".join(record.parts).strip()
        if last and data == b"" and self.frames[-1].index == 0:
            return
        depth = max(record.deepest - self.target, 0)
        self.out.append(Piece(self._label(self.target), record.size, depth, data, record.head))

    def _take(self, record: _Record, piece: bytes) -> None:
        record.size += len(piece)
        if record.over:
            return
        if record.size > self.max_record:
            record.over = True
            record.head = b"".join([*record.parts, piece])[: self.kept]
            record.parts = []
        else:
            record.parts.append(piece)

    def _carry(self, chunk: bytes, base: int) -> None:
        """Keep the bytes of a record or key that goes on into the next chunk."""
        if self.record is not None:
            self._take(self.record, chunk[max(self.record.start - base, 0):])
        if self.key_from is not None and sum(map(len, self.key_parts)) <= _KEY_LIMIT:
            self.key_parts.append(chunk[max(self.key_from - base, 0):])

    def _break(self, reason: str) -> None:
        level = self.target if self.record is not None else len(self.frames)
        self.out.append(Broken(self._label(level), reason))
        self.broken = True

    def end(self) -> None:
        """The file ended: report a record or container left open, or an empty file."""
        if self.broken or (self.closed_at is not None and not self.text.in_string):
            return
        if not self.rooted and not self.content:
            self._break("the file holds no JSON value")
            return
        if self.closed_at is None and not self.frames and self.text.depth == 0:
            return
        where = "inside a string" if self.text.in_string else "before every bracket is closed"
        self._break(f"the file ends {where}")


def scan_records(handle: BinaryIO, steps: tuple[Step, ...], max_record: int, kept: int, *,
                 chunk: int = _CHUNK) -> Iterator[Piece | Mismatch | Broken]:
    """Yield the records at `steps` (ending with `ITEM`) in a binary file, in file order.

    Values off the path to the records are passed over by their brackets, never built, however
    deep they nest. Records are not validated here (the caller parses each one), but anything
    that makes the rest of the file unreadable ends the scan with a `Broken`.
    """
    scanner = _Scanner(steps, max_record, kept)
    base, data = 0, b""
    while not scanner.done and (data := handle.read(chunk)):
        scanner.feed(data, base)
        base += len(data)
        yield from scanner.out
        scanner.out = []
    if scanner.closed_at is not None and not _only_space(
            data[scanner.closed_at + 1 - (base - len(data)):], handle):
        yield Broken("$", "more than one value at the top level")
        return
    scanner.end()
    yield from scanner.out


def _segment_maxima(after: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """The largest of `after` in each run between consecutive `cuts` (indices into it), with
    one more for the run after the last cut; a run without entries gives -1."""
    starts = np.concatenate(([0], cuts))
    padded = np.append(after, -1)
    maxima = np.maximum.reduceat(padded, starts)
    ends = np.append(cuts, after.size)
    maxima[starts >= ends] = -1
    return maxima


def _holds(chunk: bytes, start: int, end: int) -> bool:
    """Whether `chunk[start:end]` holds more than white space (a start in an earlier chunk:
    it does, since more than a whole chunk lies between)."""
    return start < 0 or bool(chunk[start:end].strip())


def _only_space(rest: bytes, handle: BinaryIO) -> bool:
    """Whether `rest` of the current chunk and the rest of the file are white space."""
    if rest.strip():
        return False
    return all(not more.strip() for more in iter(lambda: handle.read(_CHUNK), b""))
