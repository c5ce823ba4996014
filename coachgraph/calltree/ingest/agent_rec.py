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
from typing import Any

import ijson

from coachgraph.calltree.analysis import decision_points
from coachgraph.calltree.ingest._stream import iter_json_array
from coachgraph.calltree.ingest.base import (
    Item,
    Rejected,
    TraceFormat,
    describe_error,
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


def _pool_name(path: Path) -> str:
    """The pool's own `name` key where present (we write one), else named after its folder."""
    with path.open("rb") as handle:
        name = next(ijson.items(handle, "name"), None)
    return str(name) if name else f"agent-rec:{path.parent.name}"


def _read_pool(path: Path) -> Pool | Rejected:
    entries = []
    try:
        name = _pool_name(path)
        with path.open("rb") as handle:
            for key, raw in ijson.kvitems(handle, "tools", use_float=True):
                entries.append(PoolEntry(name=key, kind=raw.get("kind", "tool"),
                                         description=raw.get("description") or "",
                                         inputs=raw.get("inputs")))
    except (ijson.JSONError, ValueError, AttributeError, TypeError) as exc:
        where = f"{path}:$.tools[{len(entries)}]"
        return Rejected(source=where, reason=f"bad tool pool: {describe_error(exc)}")
    return Pool(name=name, entries=entries)


def _node(key: str, raw: dict[str, Any], trace_id: str, agents: frozenset[str]) -> CallNode:
    task = str(raw["task"])
    target = task[5:].strip() if task.startswith("Call ") else None
    kind = "other" if target is None else ("agent" if target in agents else "tool")
    extra = {k: v for k, v in raw.items() if k not in _NODE_KEYS}
    return CallNode(id=key, trace_id=trace_id, kind=kind, name=task,
                    agent=target if kind == "agent" else None,
                    tool=target if kind == "tool" else None,
                    inputs=raw.get("input_spec"), outputs=raw.get("output_spec"),
                    attributes={_EXTRA: extra} if extra else {})


def _link(nodes: dict[str, CallNode], edges: list[list[str]]) -> None:
    for source, target in edges:
        child = nodes[target]
        if source not in nodes:
            raise KeyError(source)
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
    trace_id = str(raw["trace_id"])
    agents = _agents(pool) if agents is None else agents
    nodes = {key: _node(key, value, trace_id, agents) for key, value in raw["nodes"].items()}
    _link(nodes, raw.get("edges", []))
    decisions = [DecisionPoint(node=d["node"], candidates=[str(c) for c in d["candidates"]],
                               chosen=str(d["chosen"])) for d in raw.get("decisions", [])]
    extras = {k: raw[k] for k in _TRACE_KEYS if k in raw}
    return CallTree(trace_id=trace_id, source="agent-rec", nodes=list(nodes.values()),
                    decisions=decisions, pool_ref=pool.name if pool else None, **extras)


@register_format("agent-rec")
class AgentRecFormat(TraceFormat):
    """A folder (or its graphs file) in the agent-rec schema; the pool is read first."""

    patterns = (GRAPHS_FILE,)

    def read_file(self, path: Path) -> Iterator[Item]:
        pool_path = path.parent / POOL_FILE
        pool = _read_pool(pool_path) if pool_path.is_file() else None
        if pool is not None:
            yield pool
        shared = pool if isinstance(pool, Pool) else None
        agents = _agents(shared)
        for source, raw in iter_json_array(path, "traces.item", "$.traces"):
            if isinstance(raw, Rejected):
                yield raw
                continue
            try:
                yield trace_from_record(raw, shared, agents)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                yield Rejected(source=source, reason=describe_error(exc))


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
