"""Ingest inputs of one format into a store: whole traces, quarantine for the rest."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.ingest.base import Rejected, TraceFormat, get_format
from coachgraph.calltree.schema import CallTree, Pool
from coachgraph.errors import InputError

__all__ = ["IngestReport", "ingest", "write_quarantine"]

logger = logging.getLogger(__name__)


class IngestReport(BaseModel):
    """What one ingest run did."""

    traces: int = 0
    """Traces read (stored, or already stored unchanged)."""
    nodes: int = 0
    changed: int = 0
    """Traces that changed the store (new or different from the stored version)."""
    pools: int = 0
    quarantined: list[Rejected] = Field(default_factory=list)

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        return (f"ingested {self.traces} traces, {self.nodes} nodes; "
                f"{len(self.quarantined)} quarantined")


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
    batch_nodes: int = 20_000,
) -> IngestReport:
    """Read every input with format `format_name` and store it, whole traces only.

    Malformed records are collected in `report.quarantined` and skipped; with `strict`, the
    first one raises `InputError` naming its place instead (traces read before it are stored).
    Trees are written in transactions of about `batch_nodes` nodes; a stored trace is replaced
    only by a well-formed new version, so nothing stored is lost.
    """
    with _gc_relaxed():
        report = _ingest(store, get_format(format_name), inputs, strict, batch_nodes)
    logger.info("%s (%d changed the store)", report.summary(), report.changed)
    return report


def _ingest(
    store: CallTreeStore, reader: TraceFormat, inputs: Iterable[Path], strict: bool,
    batch_nodes: int,
) -> IngestReport:
    report = IngestReport()
    batch = _Batcher(store, report, batch_nodes)
    for path in inputs:
        if not path.exists():
            raise InputError("no such file or folder", source=str(path))
        for item in reader.read(path):
            if not isinstance(item, Rejected):
                batch.add(item)
                continue
            if strict:
                batch.flush()
                raise InputError(item.reason, source=item.source)
            logger.warning("quarantined %s: %s", item.source, item.reason)
            report.quarantined.append(item)
    batch.flush()
    return report


def write_quarantine(rejected: Iterable[Rejected], path: Path) -> int:
    """Write the quarantine report as JSON Lines (`source`, `reason`); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for item in rejected:
            handle.write(json.dumps(item.model_dump(), ensure_ascii=False) + "\n")
            count += 1
    return count
