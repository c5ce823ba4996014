"""Ingest inputs of one format (or each file's own, with `auto`) into a store: whole traces,
quarantine for the rest."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.ingest.base import (
    FORMATS,
    Item,
    Rejected,
    TraceFormat,
    get_format,
    unreadable,
)
from coachgraph.calltree.ingest.detect import detect, misread, sample_file
from coachgraph.calltree.ingest.limits import Limits
from coachgraph.calltree.ingest.quarantine import Quarantine
from coachgraph.calltree.schema import CallTree, Pool
from coachgraph.errors import InputError

__all__ = ["AUTO", "IngestReport", "StrictStop", "ingest"]

logger = logging.getLogger(__name__)

AUTO = "auto"
"""The format name that reads each file as the format it is detected to be."""

_KEPT_IN_REPORT = 100
"""Rejected records kept in `IngestReport.quarantined` (all of them go to the quarantine file)."""
_LOGGED = 20
"""Rejected records logged one by one; the rest are counted in one closing line."""


class IngestReport(BaseModel):
    """What one ingest run did."""

    traces: int = 0
    """Traces read (stored, or already stored unchanged)."""
    nodes: int = 0
    changed: int = 0
    """Traces that changed the store (new or different from the stored version)."""
    pools: int = 0
    files: dict[str, int] = Field(default_factory=dict)
    """Files read, per format."""
    rejected: int = 0
    """Records rejected (each is in the quarantine file, when one is given)."""
    quarantined: list[Rejected] = Field(default_factory=list)
    """The first rejected records (at most 100; the quarantine file holds every one)."""
    unread: list[str] = Field(default_factory=list)
    """Inputs that gave no file to read, or (with `auto`) files of no known format, each with
    what it looks like instead."""
    quarantine: str | None = None
    """The quarantine file the rejected records were appended to."""

    @property
    def stored_anything(self) -> bool:
        """Whether any trace or pool was read into the store."""
        return bool(self.traces or self.pools)

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        where = f" (appended to {self.quarantine})" if self.rejected and self.quarantine else ""
        return (f"ingested {self.traces} traces, {self.nodes} nodes; "
                f"{self.rejected} quarantined{where}")


class StrictStop(InputError):
    """`strict` ingest met a rejected record; traces read before it are stored (`report`)."""

    def __init__(self, rejected: Rejected, report: IngestReport) -> None:
        self.report = report
        super().__init__(rejected.reason, source=rejected.source)


class _Batcher:
    """Groups trees into one store transaction per `max_nodes` nodes (each tree stays whole)."""

    def __init__(self, store: CallTreeStore, report: IngestReport, max_nodes: int) -> None:
        self.store, self.report, self.max_nodes = store, report, max_nodes
        self.trees: list[CallTree] = []
        self.nodes = 0

    def add(self, item: CallTree | Pool) -> None:
        if isinstance(item, Pool):
            self.flush()
            self.store.put_pool(item)
            self.report.pools += 1
            return
        self.trees.append(item)
        self.nodes += len(item.nodes)
        if self.nodes >= self.max_nodes:
            self.flush()

    def flush(self) -> None:
        if self.trees:
            self.report.changed += self.store.put_trees(self.trees)
            self.report.traces += len(self.trees)
            self.report.nodes += self.nodes
        self.trees, self.nodes = [], 0


_GC_YOUNG_THRESHOLD = 1_000_000
"""Net new container objects between young collections while ingesting (the default is 2,000)."""


@contextmanager
def _gc_relaxed() -> Iterator[None]:
    """Run the cyclic garbage collector less often while ingesting, then restore its settings.

    Reading builds millions of short-lived dicts and lists that reference counting frees on
    its own; at the default threshold the collector keeps traversing them and the parsed
    documents still alive, up to a third of the reading time of large files (a threshold of
    50,000 still costs about a tenth). Cycles are still collected, only in larger steps; a
    threshold of 0 (collector off) is left alone.
    """
    thresholds = gc.get_threshold()
    if thresholds[0]:
        gc.set_threshold(max(thresholds[0], _GC_YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def ingest(
    store: CallTreeStore, format_name: str, inputs: Iterable[Path], *, strict: bool = False,
    batch_nodes: int = 20_000, limits: Limits | None = None, quarantine: Path | None = None,
) -> IngestReport:
    """Read every input with format `format_name` (`auto`: each file's detected format) and
    store it, whole traces only.

    Every input path is checked before anything is read (`InputError` names a missing one).
    A file that plainly holds another format is rejected whole, saying which; malformed
    records and records over `limits` are rejected one by one, appended to the `quarantine`
    file as they come (with the record) and counted in the report, and reading goes on. With
    `strict`, the first rejected record raises `StrictStop` instead (traces read before it are
    stored). Trees are written in transactions of about `batch_nodes` nodes; a stored trace
    is replaced only by a well-formed new version, so nothing stored is lost.
    """
    inputs = list(inputs)
    for path in inputs:
        if not path.exists():
            raise InputError("no such file or folder", source=str(path))
    run = _Run(store, format_name, limits or Limits(), strict, batch_nodes, quarantine)
    with _gc_relaxed(), run.quarantine:
        run.read_all(inputs)
    logger.info("%s (%d changed the store)", run.report.summary(), run.report.changed)
    return run.report


class _Run:
    """The state of one ingest run: readers by format, the batcher, report and quarantine."""

    def __init__(self, store: CallTreeStore, format_name: str, limits: Limits, strict: bool,
                 batch_nodes: int, quarantine: Path | None) -> None:
        self.auto = format_name == AUTO
        self.readers: dict[str, TraceFormat] = {}
        if not self.auto:
            self.readers[format_name] = get_format(format_name, limits)
        self.format_name, self.limits, self.strict = format_name, limits, strict
        self.report = IngestReport(quarantine=str(quarantine) if quarantine else None)
        self.batch = _Batcher(store, self.report, batch_nodes)
        self.quarantine = Quarantine(quarantine, format_name)

    def read_all(self, inputs: list[Path]) -> None:
        for path in inputs:
            for reader, files in self._plan(path):
                self.report.files[reader.name] = self.report.files.get(reader.name, 0) + len(files)
                for group in [files] if reader.joins_files else [[file] for file in files]:
                    where = group[0] if len(group) == 1 else path
                    for item in _guarded(self._read(group, reader), where, reader.name):
                        self._take(item, reader.name)
        self.batch.flush()
        if self.report.rejected > _LOGGED:
            logger.info("... and %d more rejected records", self.report.rejected - _LOGGED)

    def _plan(self, path: Path) -> Iterator[tuple[TraceFormat, list[Path]]]:
        """The files of an input path by reader (in `auto`, each file's own), in file order."""
        if not self.auto:
            reader = self.readers[self.format_name]
            files = reader.files(path)
            if files:
                yield reader, files
            else:
                self.report.unread.append(_nothing_found(path, reader, self.limits))
            return
        planned: dict[str, list[Path]] = {}
        for file in _candidates(path):
            sample = sample_file(file, self.limits)
            found = detect(sample) if sample is not None else None
            if found is None:
                self.report.unread.append(
                    f"{file}: not a trace format coachgraph reads" if sample is not None else
                    f"{file}: its first record cannot be read (not JSON, or over the limits); "
                    "name its format with --format to see why")
                continue
            self.readers.setdefault(found.name, found(self.limits))
            planned.setdefault(found.name, []).append(file)
        yield from ((self.readers[name], files) for name, files in planned.items())

    def _read(self, files: list[Path], reader: TraceFormat) -> Iterator[Item]:
        """The items of files read together; a file that plainly holds another format (or
        cannot be opened) is rejected whole and left out."""
        readable = []
        for file in files:
            wrong = None if self.auto else self._misread(file, reader)
            if wrong is None:
                readable.append(file)
            else:
                yield wrong
        yield from reader.read_files(readable)

    def _misread(self, file: Path, reader: TraceFormat) -> Rejected | None:
        """The rejection of a file `reader` should not read, as it plainly holds another
        format; None to read it."""
        try:
            sample = sample_file(file, self.limits)
            wrong = misread(reader, sample) if sample is not None else None
            if wrong is None:
                return None
            with file.open("rb") as handle:
                head = handle.read(self.limits.kept_record_bytes)
                size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            return unreadable(file, exc)
        return Rejected(source=str(file), reason=wrong,
                        record=head.decode("utf-8", errors="replace"), record_bytes=size)

    def _take(self, item: Item, format_name: str) -> None:
        if not isinstance(item, Rejected):
            self.batch.add(item)
            return
        self.report.rejected += 1
        if len(self.report.quarantined) < _KEPT_IN_REPORT:
            self.report.quarantined.append(item)
        self.quarantine.add(item, format_name)
        if self.strict:
            self.batch.flush()
            raise StrictStop(item, self.report)
        if self.report.rejected <= _LOGGED:
            logger.info("rejected %s: %s", item.source, item.reason)


def _guarded(items: Iterator[Item], file: Path, format_name: str) -> Iterator[Item]:
    """A reader's items; should reading the file (or the input whose files are read together)
    fail anyway, it is rejected (one line, with the cause), and the run goes on."""
    try:
        yield from items
    except OSError as exc:
        yield unreadable(file, exc)
    except Exception as exc:  # a reader's bug must not lose the other files of the run
        logger.debug("the %s reader failed on %s", format_name, file, exc_info=True)
        yield Rejected(source=str(file), reason=f"the {format_name} reader failed "
                                                f"({type(exc).__name__}: {exc}); please report it")


def _candidates(path: Path) -> list[Path]:
    """Every JSON and JSON Lines file of an input path, leaving out the formats' companions."""
    if not path.is_dir():
        return [path]
    companions = {c for fmt in FORMATS.values() for c in fmt.companions}
    found = {f for pattern in ("*.json", "*.jsonl") for f in path.rglob(pattern) if f.is_file()}
    return sorted(f for f in found if not any(f.match(c) for c in companions))


def _nothing_found(path: Path, reader: TraceFormat, limits: Limits) -> str:
    """Why an input gave the reader no file, and what it holds instead, where that is plain."""
    message = f"{path}: no {reader.name} input here (looked for {', '.join(reader.patterns)})"
    for file in _candidates(path)[:20]:
        sample = sample_file(file, limits)
        found = detect(sample) if sample is not None else None
        if found is not None:
            return (f"{message}; it holds {found.title}: read it with --format {found.name} "
                    "(or --format auto)")
    return message
