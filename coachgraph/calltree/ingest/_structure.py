"""Where the structure of JSON text lies, found with numpy on its raw bytes without parsing.

Only quotes, backslashes and structural bytes are looked at, as sparse position arrays: the
backslash runs decide which quotes are escaped, the quotes which structural bytes lie inside
strings, and the brackets the depth after each. The state carries from one chunk to the next,
so a file is read in chunks of any size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLOSES", "OPENS", "Structure", "closed_prefix", "shallow"]

_QUOTE, _BACKSLASH, _COMMA, _COLON = 34, 92, 44, 58
OPENS, CLOSES = (91, 123), (93, 125)
"""`[` and `{`, and `]` and `}`, as byte values."""
_MARKED = bytes(int(b in (_QUOTE, _BACKSLASH, *OPENS, *CLOSES, _COMMA, _COLON))
                for b in range(256))
"""Maps every byte looked at to 1 and every other byte to 0."""
_DELTA = np.zeros(256, dtype=np.int64)
_DELTA[list(OPENS)] = 1
_DELTA[list(CLOSES)] = -1


class Structure:
    """The structure of JSON text fed chunk by chunk: whether the last chunk ended inside a
    string or an escape, and the depth after it (-1 once a bracket closed nothing)."""

    def __init__(self) -> None:
        self.escape, self.in_string, self.depth = False, False, 0

    def feed(self, chunk: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The structural bytes outside strings (positions, depth change, depth after each)
        and the unescaped quotes of a chunk; the state carries on to the next chunk."""
        interesting = np.flatnonzero(np.frombuffer(chunk.translate(_MARKED), np.bool_))
        a = np.frombuffer(chunk, np.uint8)
        kinds = a[interesting]
        quotes = _unescaped(interesting[kinds == _QUOTE],
                            self._escaped(interesting[kinds == _BACKSLASH], a.size))
        marks = interesting[(kinds != _QUOTE) & (kinds != _BACKSLASH)]
        marks = marks[(np.searchsorted(quotes, marks) + self.in_string) % 2 == 0]
        delta = _DELTA[a[marks]]
        after = np.cumsum(delta) + self.depth
        self.in_string = bool((quotes.size + self.in_string) % 2)
        self.depth = int(after[-1]) if after.size else self.depth
        if after.size and int(after.min()) < 0:
            self.depth = -1
        return marks, delta, after, quotes

    def _escaped(self, slashes: np.ndarray, size: int) -> np.ndarray:
        """Positions of bytes escaped by a backslash (a run's parity carries across chunks)."""
        first = np.array([0] if self.escape else [], dtype=np.int64)
        if slashes.size == 0:
            self.escape = False
            return first
        starts_run = np.empty(slashes.size, dtype=bool)
        starts_run[0] = True
        starts_run[1:] = np.diff(slashes) != 1
        run_start = np.maximum.accumulate(np.where(starts_run, np.arange(slashes.size), 0))
        offset = np.arange(slashes.size) - run_start
        if self.escape and slashes[0] == 0:
            offset[run_start == 0] += 1
        targets = slashes[offset % 2 == 0] + 1
        self.escape = bool(targets.size and targets[-1] == size)
        return np.concatenate((first, targets[targets < size]))


def _unescaped(quotes: np.ndarray, escaped: np.ndarray) -> np.ndarray:
    """The quote positions that no backslash escapes (both arrays sorted)."""
    if escaped.size == 0 or quotes.size == 0:
        return quotes
    at = np.minimum(np.searchsorted(escaped, quotes), escaped.size - 1)
    return quotes[escaped[at] != quotes]


def closed_prefix(head: bytes) -> bytes | None:
    """The first bytes of a record cut after its last whole member and closed: what can be
    read of a record too large to hold (None: no member ends within them)."""
    marks, delta, _, _ = Structure().feed(head)
    commas = np.flatnonzero(np.frombuffer(head, np.uint8)[marks] == _COMMA)
    if commas.size == 0:
        return None
    end = int(marks[commas[-1]])
    stack: list[int] = []
    for position, change in zip(marks.tolist(), delta.tolist(), strict=True):
        if position >= end:
            break
        if change > 0:
            stack.append(head[position])
        elif change < 0 and stack:
            stack.pop()
    closing = bytes(CLOSES[OPENS.index(opener)] for opener in reversed(stack))
    return head[:end] + closing


def shallow(data: bytes, keep: int = 2) -> bytes | None:
    """A record's text with every array or object nested deeper than `keep` levels replaced
    by `null`: enough to read, say, which trace an over-deep span belongs to (None: the text
    is not balanced JSON)."""
    text = Structure()
    marks, delta, after, _ = text.feed(data)
    if text.depth != 0 or text.in_string:
        return None
    starts = marks[(delta > 0) & (after == keep + 1)]
    ends = marks[(delta < 0) & (after == keep)]
    if starts.size != ends.size:
        return None
    pieces, last = [], 0
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        pieces += [data[last:start], b"null"]
        last = end + 1
    return b"".join([*pieces, data[last:]])
