"""The calling-tree data model: one `CallNode` per call, one `CallTree` per trace.

Every ingest format, the tracer and every store speak these types, so that the recommender can
learn from our own runs and from foreign corpora alike. A decision point (a node, its candidate
set, the chosen child) is first-class because it is the recommender's training example.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import networkx as nx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "NODE_KINDS",
    "SCHEMA_VERSION",
    "CallNode",
    "CallTree",
    "DecisionPoint",
    "NodeKind",
    "NodeStatus",
    "Pool",
    "PoolEntry",
]

SCHEMA_VERSION = 1
"""Version of the stored and exported calling-tree records; readers reject newer versions."""

NodeKind = Literal["agent", "tool", "llm", "chain", "retriever", "skill", "handoff", "other"]
NodeStatus = Literal["ok", "error", "unset"]
NODE_KINDS: tuple[str, ...] = get_args(NodeKind)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class PoolEntry(_Model):
    """An agent or tool that could have been called: a candidate for a decision."""

    name: str = Field(min_length=1)
    kind: Literal["agent", "tool", "skill"] = "tool"
    description: str = ""
    """What it does, as the source corpus states it (empty where the source gives none)."""
    inputs: Any = None
    """Its parameter schema or signature, in the source's own shape."""


class Pool(_Model):
    """A named pool shared by many traces (e.g. the 4,076 Seal-Tools APIs), stored once."""

    name: str = Field(min_length=1)
    entries: list[PoolEntry] = Field(default_factory=list)


class DecisionPoint(_Model):
    """At node `node`, one of `candidates` was chosen (`chosen`), realised by `chosen_node`."""

    node: str
    candidates: list[str]
    chosen: str
    chosen_node: str | None = None
    kind: Literal["agent", "tool", "skill"] = "tool"


def _as_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC; aware ones are converted, so equal instants compare equal."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
"""A datetime held in UTC (the validator runs only on datetimes, never on a missing time)."""


class CallNode(_Model):
    """One call in a trace: an agent turn, a tool or model call, a chain step or a handoff."""

    id: str = Field(min_length=1)
    parent_id: str | None = None
    trace_id: str = Field(min_length=1)
    session_id: str | None = None
    user_id: str | None = None
    kind: NodeKind = "other"
    name: str = ""
    agent: str | None = None
    """The agent that acts in this node (for a tool call: the tool's caller, where known)."""
    tool: str | None = None
    inputs: Any = None
    outputs: Any = None
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    status: NodeStatus = "unset"
    error: str | None = None
    usage: dict[str, int | float] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @property
    def target(self) -> str | None:
        """The name a recommender would have chosen here: the tool of a tool call, else the agent."""
        return self.tool if self.kind == "tool" else self.agent

    @property
    def duration_s(self) -> float | None:
        """Wall time in seconds, or None when either end of the interval is unknown."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


class CallTree(_Model):
    """One trace: its nodes (a forest in general, a tree in practice), task, outcome and pool.

    Validation guarantees unique node ids, nodes that all belong to `trace_id`, parents that
    exist and no cycles, so that every consumer can rely on a well-formed graph.
    """

    schema_version: int = SCHEMA_VERSION
    trace_id: str = Field(min_length=1)
    source: str | None = None
    """The ingest format or tracer that produced the trace."""
    task: str | None = None
    success: bool | None = None
    outcome: str | None = None
    """The source's own outcome word (e.g. `give_up`), beside the boolean `success`."""
    session_id: str | None = None
    nodes: list[CallNode] = Field(default_factory=list)
    pool: list[PoolEntry] = Field(default_factory=list)
    pool_ref: str | None = None
    """Name of a shared stored `Pool` whose entries are candidates too."""
    decisions: list[DecisionPoint] = Field(default_factory=list)
    """Decisions the source states explicitly (with its own candidate sets)."""
    labels: dict[str, Any] = Field(default_factory=dict)
    """Outcome and failure-attribution labels, e.g. `mistake_agent`, `mistake_node`."""
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_structure(self) -> CallTree:
        if self.schema_version > SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is newer than {SCHEMA_VERSION}")
        parents: dict[str, str | None] = {}
        for node in self.nodes:
            if node.id in parents:
                raise ValueError(f"duplicate node id {node.id!r}")
            if node.trace_id != self.trace_id:
                raise ValueError(f"node {node.id!r} belongs to trace {node.trace_id!r}")
            parents[node.id] = node.parent_id
        _check_parents(parents)
        return self

    def node(self, node_id: str) -> CallNode:
        """The node with id `node_id`; raises KeyError when there is none."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def roots(self) -> list[CallNode]:
        """Nodes without a parent, in stored order."""
        return [n for n in self.nodes if n.parent_id is None]

    def children(self, node_id: str | None) -> list[CallNode]:
        """Children of `node_id` in stored order (call order); `None` gives the roots."""
        return [n for n in self.nodes if n.parent_id == node_id]

    def graph(self) -> nx.DiGraph:
        """A `networkx.DiGraph` view: one vertex per node id (attribute `node`), parent→child edges.

        The graph attributes carry `trace_id`, `task`, `success`, `pool` and `decisions`;
        vertex attributes also carry `kind`, `name`, `agent`, `tool`, `status` and `order` (the
        stored position) so that analysis functions need not reach into the models.
        """
        g = nx.DiGraph(trace_id=self.trace_id, task=self.task, success=self.success,
                       pool=list(self.pool), decisions=list(self.decisions))
        for order, node in enumerate(self.nodes):
            g.add_node(node.id, node=node, kind=node.kind, name=node.name, agent=node.agent,
                       tool=node.tool, status=node.status, order=order)
        g.add_edges_from((n.parent_id, n.id) for n in self.nodes if n.parent_id is not None)
        return g


def _check_parents(parents: dict[str, str | None]) -> None:
    """Raise ValueError when a parent is missing or parent links form a cycle."""
    settled: set[str] = set()
    for start in parents:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current not in settled:
            if current in on_path:
                raise ValueError(f"parent cycle through node {current!r}")
            if current not in parents:
                raise ValueError(f"node {path[-1]!r} has unknown parent {current!r}")
            path.append(current)
            on_path.add(current)
            current = parents[current]
        settled.update(path)
