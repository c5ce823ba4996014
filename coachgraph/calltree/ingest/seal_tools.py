"""`seal-tools`: Seal-Tools queries with their gold tool calls, and its 4,076-API pool.

Each query is a root with one tool-call child per `calling[i]`, in order. A parameter equal to
an earlier call's response id (`API_call_k`) makes that call the parent (the latest one when
several feed it; all are kept in `attributes["depends_on"]`). The API list (`tool.jsonl`) is
stored once as the shared pool `seal-tools`; each tree's own pool holds the APIs it calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest._builder import TreeBuilder, convert, nested_strings
from coachgraph.calltree.ingest._stream import iter_jsonl
from coachgraph.calltree.ingest.base import Item, Rejected, TraceFormat, register_format
from coachgraph.calltree.schema import CallTree, Pool, PoolEntry

__all__ = ["POOL_NAME", "SealToolsFormat"]

POOL_NAME = "seal-tools"
_TOOLS_FILE = "tool.jsonl"
_NOT_QUERIES = {_TOOLS_FILE, "field.jsonl"}


def _entry(raw: dict[str, Any]) -> PoolEntry:
    return PoolEntry(name=raw["api_name"], kind="tool", description=raw.get("api_description", ""),
                     inputs={"parameters": raw.get("parameters", {}),
                             "required": raw.get("required", [])})


def _read_pool(path: Path) -> Iterator[Item]:
    entries = []
    for source, raw in iter_jsonl(path):
        item = raw if isinstance(raw, Rejected) else convert(source, lambda r=raw: _entry(r))
        if isinstance(item, PoolEntry):
            entries.append(item)
        else:
            yield item
    yield Pool(name=POOL_NAME, entries=entries)


def _tree(path: Path, raw: dict[str, Any], pool: dict[str, PoolEntry]) -> CallTree:
    b = TreeBuilder(f"seal-tools:{raw['id']}")
    root = b.add(kind="chain", name="query", inputs={"query": raw["query"]})
    producers: dict[str, str] = {}
    for call in raw["calling"]:
        feeds = sorted({producers[s] for s in nested_strings(call["parameters"]) if s in producers},
                       key=lambda node: int(node[1:]))
        node = b.add(feeds[-1] if feeds else root, kind="tool", name=call["api"], tool=call["api"],
                     inputs=call["parameters"], outputs=call.get("responses"),
                     attributes={"depends_on": feeds} if feeds else {})
        producers.update((str(r), node) for r in call.get("responses") or [])
    used = dict.fromkeys(n.tool for n in b.nodes if n.tool)
    difficulty = str(raw["id"]).split("-")[-2] if str(raw["id"]).count("-") >= 2 else None
    return CallTree(trace_id=b.trace_id, source="seal-tools", task=raw["query"], nodes=b.nodes,
                    pool=[pool[name] for name in used if name in pool], pool_ref=POOL_NAME,
                    labels={"split": path.stem, "difficulty": difficulty})


@register_format("seal-tools")
class SealToolsFormat(TraceFormat):
    """The Seal-Tools folder (or query `.jsonl` files); `tool.jsonl` beside them is the pool."""

    patterns = ("*.jsonl",)

    def files(self, path: Path) -> list[Path]:
        return [f for f in super().files(path) if f.name not in _NOT_QUERIES]

    def __init__(self) -> None:
        self._pools: dict[Path, dict[str, PoolEntry]] = {}

    def _pool(self, folder: Path) -> Iterator[Item]:
        """Read `tool.jsonl` once per folder; later query files of the folder reuse it."""
        tools = folder / _TOOLS_FILE
        if folder in self._pools or not tools.is_file():
            return
        self._pools[folder] = {}
        for item in _read_pool(tools):
            if isinstance(item, Pool):
                self._pools[folder] = {e.name: e for e in item.entries}
            yield item

    def read_file(self, path: Path) -> Iterator[Item]:
        yield from self._pool(path.parent)
        pool = self._pools.get(path.parent, {})
        for source, raw in iter_jsonl(path):
            yield raw if isinstance(raw, Rejected) else convert(
                source, lambda r=raw: _tree(path, r, pool))
