"""The calling-tree store interface every backend implements (and the conformance suite checks)."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Literal, Self

import networkx as nx
from pydantic import BaseModel, ConfigDict

from coachgraph.calltree.analysis import decision_points
from coachgraph.calltree.schema import CallNode, CallTree, DecisionPoint, Pool

__all__ = ["CallTreeStore", "OutcomeCounts", "StoreStats", "TraceQuery", "TraceSummary"]

Outcome = Literal["success", "failure", "unknown"]


class OutcomeCounts(BaseModel):
    """How the traces an agent took part in ended, and how often it was blamed for a failure."""

    success: int = 0
    failure: int = 0
    unknown: int = 0
    blamed: int = 0


class StoreStats(BaseModel):
    """A store at a glance."""

    traces: int
    nodes: int
    agents: int
    tools: int
    pools: int
    by_source: dict[str, int]
    by_kind: dict[str, int]


class TraceQuery(BaseModel):
    """Which traces to list: every given filter must hold (none given: all traces)."""

    model_config = ConfigDict(frozen=True)

    task: str | None = None
    """Text the task contains (case-insensitive)."""
    agent: str | None = None
    """An agent the trace calls."""
    tool: str | None = None
    """A tool the trace calls."""
    outcome: Outcome | None = None
    """How the trace ended: `success`, `failure`, or `unknown` (no label)."""
    source: str | None = None
    """The ingest format or tracer that produced it."""


class TraceSummary(BaseModel):
    """One stored trace at a glance: what `coachgraph calltree list` shows."""

    trace_id: str
    source: str | None
    task: str | None
    nodes: int
    outcome: Outcome
    outcome_word: str | None
    """The source's own outcome word (e.g. `give_up`), where it gives one."""


class CallTreeStore(ABC):
    """Keeps calling trees safe: whole traces are written atomically and idempotently.

    A store is used from one thread at a time; several processes (or several store objects)
    may read while one writes, and a reader never sees half a trace.
    """

    @abstractmethod
    def put_tree(self, tree: CallTree) -> bool:
        """Store `tree` in one transaction, replacing any stored trace with the same id.

        Returns False (and writes nothing) when an identical tree is already stored, so that
        re-ingesting the same data changes nothing; True when the store changed.
        """

    @abstractmethod
    def get_tree(self, trace_id: str) -> CallTree | None:
        """The stored trace `trace_id`, or None when there is none."""

    @abstractmethod
    def trace_ids(self, *, source: str | None = None) -> list[str]:
        """Ids of all stored traces (of one `source` format when given), sorted."""

    @abstractmethod
    def find_traces(
        self, *, task: str | None = None, agent: str | None = None, tool: str | None = None,
        limit: int = 100,
    ) -> list[str]:
        """Ids of traces whose task contains `task` (case-insensitive) and that call `agent` / `tool`."""

    @abstractmethod
    def trace_summaries(self, query: TraceQuery, *, limit: int = 100, offset: int = 0) -> list[TraceSummary]:
        """Summaries of the traces matching `query`, sorted by trace id, `limit` from `offset`."""

    @abstractmethod
    def count_traces(self, query: TraceQuery) -> int:
        """How many traces match `query`."""

    @abstractmethod
    def children(self, trace_id: str, node_id: str | None) -> list[CallNode]:
        """Children of a node in call order; `node_id=None` gives the trace's roots."""

    @abstractmethod
    def agent_outcomes(self) -> dict[str, OutcomeCounts]:
        """Per agent: outcome counts over the traces it appears in, and failures blamed on it."""

    @abstractmethod
    def put_pool(self, pool: Pool) -> bool:
        """Store a shared pool, replacing one with the same name; False when already identical."""

    @abstractmethod
    def get_pool(self, name: str) -> Pool | None:
        """The stored pool `name`, or None."""

    @abstractmethod
    def pools(self) -> dict[str, int]:
        """Name → number of entries of every stored pool."""

    @abstractmethod
    def stats(self) -> StoreStats:
        """Counts of traces, nodes, distinct agents and tools, pools, per source and per kind."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the store cannot be used afterwards."""

    def put_trees(self, trees: Iterable[CallTree]) -> int:
        """Store many trees, each in its own transaction; returns how many changed the store.

        By default, calls `put_tree` for each; override to batch when a backend can.
        """
        return sum(self.put_tree(tree) for tree in trees)

    def append_nodes(self, head: CallTree, nodes: Sequence[CallNode], replace: Collection[str] = ()) -> None:
        """Add `nodes` to trace `head.trace_id` in one transaction, so a long run's trace grows as
        it goes and a kill loses only what was not yet written.

        A stored node with the same id as a new one is updated (a node written while it was still
        running is rewritten when it ends); the stored nodes named in `replace` are dropped with
        everything stored under them (a call made again replaces its earlier record). Every new
        node's parent must be stored or among `nodes`. The trace's own fields (task, outcome, session, source) become `head`'s; its
        nodes are ignored. A trace not yet stored is created.

        By default, reads the stored trace, merges and writes it back with `put_tree`; override
        where a backend can append.
        """
        stored = self.get_tree(head.trace_id)
        old = stored.graph() if stored else None
        gone = {node.id for node in nodes} | set(replace)
        for node_id in replace:
            gone |= nx.descendants(old, node_id) if old is not None and node_id in old else set()
        kept = [n for n in stored.nodes if n.id not in gone] if stored else []
        self.put_tree(CallTree(**{**dict(head), "nodes": [*kept, *nodes]}))

    def iter_trees(self, trace_ids: Iterable[str] | None = None) -> Iterator[CallTree]:
        """Yield stored trees (all, or those named), skipping ids that are not stored.

        By default, fetches one by one through `get_tree`.
        """
        for trace_id in self.trace_ids() if trace_ids is None else trace_ids:
            tree = self.get_tree(trace_id)
            if tree is not None:
                yield tree

    def trace_digests(self) -> dict[str, str]:
        """Trace id → a digest of the stored trace's content; a trace that changes gets a new one.

        By default, hashes each stored tree's JSON; SQL backends read the digest they keep.
        """
        return {tree.trace_id: hashlib.sha256(tree.model_dump_json().encode()).hexdigest()
                for tree in self.iter_trees()}

    def pool_digests(self) -> dict[str, str]:
        """Pool name → a digest of the stored pool's entries.

        By default, hashes each pool's JSON; SQL backends read the digest they keep.
        """
        pools = {name: self.get_pool(name) for name in self.pools()}
        return {name: hashlib.sha256(pool.model_dump_json().encode()).hexdigest()
                for name, pool in pools.items() if pool is not None}

    def decision_points(self, trace_id: str) -> list[DecisionPoint]:
        """Decision points of one trace, candidates drawn from its pool and its shared pool.

        By default, loads the tree and its pool and derives them with `analysis.decision_points`.
        """
        tree = self.get_tree(trace_id)
        if tree is None:
            return []
        shared = self.get_pool(tree.pool_ref) if tree.pool_ref else None
        return decision_points(tree, extra_pool=shared.entries if shared else ())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
