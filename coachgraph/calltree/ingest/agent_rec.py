"""`agent-rec`: the normalised schema of the agent-recommendation benchmark, read and written.

A folder holds `tool_pool.json` (`{"tools": {name: {"description", "inputs"}}}`) and
`tool_calling_graphs.json` (`{"traces": [{"trace_id", "nodes", "edges", "decisions"}]}`); a
node's tool comes from a task string `"Call <tool>"`. We also write (and read back) the optional
trace keys `task`, `success`, `outcome` and `labels`, and `kind` on agent pool entries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from coachgraph.calltree.analysis import decision_points
from coachgraph.calltree.ingest._stream import iter_json_array, load_json
from coachgraph.calltree.ingest.base import (
    STRICT,
    FieldError,
    Item,
    Rejected,
    Sample,
    TraceFormat,
    check,
    register_format,
)
from coachgraph.calltree.schema import CallNode, CallTree, DecisionPoint, Pool, PoolEntry

__all__ = ["AgentRecFormat", "GRAPHS_FILE", "POOL_FILE", "write_agent_rec"]

logger = logging.getLogger(__name__)

POOL_FILE = "tool_pool.json"
GRAPHS_FILE = "tool_calling_graphs.json"
_NODE_KEYS = {"task", "input_spec", "output_spec"}
_TRACE_KEYS = ("task", "success", "outcome", "labels")
_EXTRA = "agent_rec.extra"
_ALSO_AFTER = "agent_rec.also_after"


@with_config(STRICT)
class _Node(TypedDict):
    task: str
    input_spec: NotRequired[Any]
    output_spec: NotRequired[Any]


@with_config(STRICT)
class _Decision(TypedDict):
    node: str
    candidates: list[str]
    chosen: str


@with_config(STRICT)
class _Trace(TypedDict):
    trace_id: Annotated[str, Field(min_length=1)]
    nodes: dict[str, _Node]
    edges: NotRequired[list[Annotated[list[str], Field(min_length=2, max_length=2)]]]
    decisions: NotRequired[list[_Decision]]
    task: NotRequired[str | None]
    success: NotRequired[bool | None]
    outcome: NotRequired[str | None]
    labels: NotRequired[dict[str, Any]]


@with_config(STRICT)
class _Tool(TypedDict):
    description: NotRequired[str | None]
    inputs: NotRequired[Any]
    kind: NotRequired[Literal["agent", "tool", "skill"]]


@with_config(STRICT)
class _PoolFile(TypedDict):
    name: NotRequired[Annotated[str, Field(min_length=1)]]
    tools: dict[str, Any]


_TRACE, _TOOL, _POOL = TypeAdapter(_Trace), TypeAdapter(_Tool), TypeAdapter(_PoolFile)


def _read_pool(reader: TraceFormat, path: Path) -> Iterator[Pool | Rejected]:
    """The pool file as one record (it is read whole, within the limits): each entry is
    checked on its own, so one bad entry is rejected and the others kept. The pool is named
    by its own `name` key where present (we write one), else after its folder."""
    source, raw = load_json(path, reader.limits)
    if isinstance(raw, Rejected):
        yield raw
        return
    pool = reader.convert(source, lambda: _pool_header(raw, f"agent-rec:{path.parent.name}"),
                          raw)
    if isinstance(pool, Rejected):
        yield pool
        return
    for key, value in raw["tools"].items():
        entry = reader.convert(f"{path}:$.tools[{json.dumps(key)}]",
                               lambda k=key, v=value: _entry(k, v), value)
        if isinstance(entry, Rejected):
            yield entry
        else:
            pool.entries.append(entry)
    yield pool


def _pool_header(raw: Any, default_name: str) -> Pool:
    check(_POOL, raw)
    return Pool(name=raw.get("name") or default_name)


def _entry(key: str, raw: Any) -> PoolEntry:
    check(_TOOL, raw)
    return PoolEntry(name=key, kind=raw.get("kind", "tool"), description=raw.get("description")
                     or "", inputs=raw.get("inputs"))


def _node(key: str, raw: dict[str, Any], trace_id: str, agents: frozenset[str]) -> CallNode:
    task = raw["task"]
    target = task[5:].strip() if task.startswith("Call ") else None
    kind = "other" if target is None else ("agent" if target in agents else "tool")
    extra = {k: v for k, v in raw.items() if k not in _NODE_KEYS}
    return CallNode(id=key, trace_id=trace_id, kind=kind, name=task,
                    agent=target if kind == "agent" else None,
                    tool=target if kind == "tool" else None,
                    inputs=raw.get("input_spec"), outputs=raw.get("output_spec"),
                    attributes={_EXTRA: extra} if extra else {})


def _link(nodes: dict[str, CallNode], edges: list[list[str]]) -> None:
    for index, (source, target) in enumerate(edges):
        missing = next((end for end in (source, target) if end not in nodes), None)
        if missing is not None:
            raise FieldError([f"$.edges[{index}]: node {missing!r} is not in $.nodes"])
        child = nodes[target]
        if child.parent_id is None:
            child.parent_id = source
        else:
            child.attributes.setdefault(_ALSO_AFTER, []).append(source)


def _agents(pool: Pool | None) -> frozenset[str]:
    return frozenset(e.name for e in pool.entries if e.kind == "agent") if pool else frozenset()


def trace_from_record(raw: dict[str, Any], pool: Pool | None,
                      agents: frozenset[str] | None = None) -> CallTree:
    """One `traces[i]` record as a `CallTree` (raises on malformed records).

    `agents` (the pool's agent names) may be passed in by a caller converting many records,
    so a large pool is scanned once per file rather than once per trace.
    """
    check(_TRACE, raw)
    trace_id = raw["trace_id"]
    agents = _agents(pool) if agents is None else agents
    nodes = {key: _node(key, value, trace_id, agents) for key, value in raw["nodes"].items()}
    _link(nodes, raw.get("edges", []))
    decisions = [DecisionPoint(node=d["node"], candidates=d["candidates"], chosen=d["chosen"])
                 for d in raw.get("decisions", [])]
    extras = {k: raw[k] for k in _TRACE_KEYS if k in raw}
    return CallTree(trace_id=trace_id, source="agent-rec", nodes=list(nodes.values()),
                    decisions=decisions, pool_ref=pool.name if pool else None, **extras)


@register_format("agent-rec")
class AgentRecFormat(TraceFormat):
    """A folder (or its graphs file) in the agent-rec schema; the pool is read first."""

    title = "the agent-rec schema"
    patterns = (GRAPHS_FILE,)
    companions = (POOL_FILE,)

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        return (sample.layout == "traces" and isinstance(sample.record, dict)
                and "nodes" in sample.record)

    def read_file(self, path: Path) -> Iterator[Item]:
        pool_path = path.parent / POOL_FILE
        shared = None
        if pool_path.is_file():
            for item in _read_pool(self, pool_path):
                shared = item if isinstance(item, Pool) else shared
                yield item
        agents = _agents(shared)
        for source, raw in iter_json_array(path, "traces.item", self.limits):
            yield raw if isinstance(raw, Rejected) else self.convert(
                source, lambda r=raw: trace_from_record(r, shared, agents), raw)


def _task(node: CallNode) -> str:
    if node.name.startswith("Call ") or not node.target:
        return node.name or node.kind
    return f"Call {node.target}"


def _spec(value: Any) -> Any:
    return value if isinstance(value, str) or value is None else json.dumps(value)


def _record(tree: CallTree) -> dict[str, Any]:
    nodes = {n.id: {"task": _task(n), "input_spec": _spec(n.inputs),
                    "output_spec": _spec(n.outputs), **n.attributes.get(_EXTRA, {})}
             for n in tree.nodes}
    edges = [[p, n.id] for n in tree.nodes
             for p in ([n.parent_id] if n.parent_id else []) + n.attributes.get(_ALSO_AFTER, [])]
    decisions = tree.decisions or decision_points(tree)
    record: dict[str, Any] = {"trace_id": tree.trace_id, "nodes": nodes, "edges": edges,
                              "decisions": [d.model_dump(include={"node", "candidates", "chosen"})
                                            for d in decisions]}
    record.update({k: getattr(tree, k) for k in _TRACE_KEYS if getattr(tree, k)})
    return record


def _pool_json(name: str, entries: dict[str, PoolEntry]) -> dict[str, Any]:
    return {"name": name, "tools": {name: {"description": e.description, "inputs": e.inputs,
                             **({"kind": e.kind} if e.kind != "tool" else {})}
                      for name, e in entries.items()}}


def write_agent_rec(trees: Iterable[CallTree], out: Path, pools: Iterable[Pool] = ()) -> int:
    """Write trees into folder `out` as `tool_calling_graphs.json` + `tool_pool.json`.

    The pool file joins the given shared pools and every tree's own pool. Returns the number
    of traces written; the graphs file is written one trace at a time.
    """
    out.mkdir(parents=True, exist_ok=True)
    pools = list(pools)
    entries = {e.name: e for pool in pools for e in pool.entries}
    name = pools[0].name if len(pools) == 1 else f"agent-rec:{out.name}"
    count = 0
    with (out / GRAPHS_FILE).open("w", encoding="utf-8") as handle:
        handle.write('{"traces": [\n')
        for tree in trees:
            entries.update((e.name, e) for e in tree.pool)
            handle.write(("," if count else "") + json.dumps(_record(tree)) + "\n")
            count += 1
        handle.write("]}\n")
    (out / POOL_FILE).write_text(json.dumps(_pool_json(name, entries), indent=1), encoding="utf-8")
    logger.info("wrote %d traces and %d pool entries to %s", count, len(entries), out)
    return count
