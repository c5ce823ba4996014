"""The quarantine file: every record an ingest run rejects, kept with its place and reason.

Each run appends its entries to the file (JSON Lines), each marked with the run's id and start
time, so an earlier run's entries are never lost; each keeps the rejected record itself (cut to
`Limits.kept_record_bytes`, with its full size beside it), so nothing fed in is lost silently.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from coachgraph.calltree.ingest.base import Rejected

__all__ = ["Quarantine", "write_quarantine"]

_LINE_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}
"""Characters some readers split lines at: written escaped, so one entry stays one line."""


class Quarantine:
    """Appends the rejected records of one run to a JSON Lines file, opened at the first one
    (with no file, it only counts them).

    Entry fields: `run` and `started` (the run), `format`, `source` (file with line or JSON
    path), `reason`, `record` (the record's text, cut short when long) and `record_bytes`.
    """

    def __init__(self, path: Path | None, format_name: str = "") -> None:
        self.path, self.format_name = path, format_name
        self.run = uuid.uuid4().hex[:12]
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self.count = 0
        self._handle: IO[str] | None = None

    def add(self, rejected: Rejected, format_name: str | None = None) -> None:
        """Append one rejected record (of `format_name`, default the run's format)."""
        self.count += 1
        if self.path is None:
            return
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        entry = {"run": self.run, "started": self.started,
                 "format": format_name or self.format_name, **rejected.model_dump()}
        self._handle.write(json.dumps(entry, ensure_ascii=False).translate(_LINE_BREAKS) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Quarantine:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def write_quarantine(rejected: Iterable[Rejected], path: Path, format_name: str = "") -> int:
    """Append rejected records to a quarantine file as one run; returns how many."""
    with Quarantine(path, format_name) as quarantine:
        for item in rejected:
            quarantine.add(item)
        return quarantine.count
