"""`seal-tools`: Seal-Tools queries with their gold tool calls, and its 4,076-API pool.

Each query is a root with one tool-call child per `calling[i]`, in order. A parameter equal to
an earlier call's response id (`API_call_k`) makes that call the parent (the latest one when
several feed it; all are kept in `attributes["depends_on"]`). The API list (`tool.jsonl`) is
stored once as the shared pool `seal-tools`; each tree's own pool holds the APIs it calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NotRequired

from pydantic import Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from coachgraph.calltree.ingest._builder import TreeBuilder, nested_strings
from coachgraph.calltree.ingest._stream import iter_jsonl
from coachgraph.calltree.ingest.base import (
    STRICT,
    Item,
    Rejected,
    Sample,
    TraceFormat,
    check,
    register_format,
)
from coachgraph.calltree.ingest.limits import Limits
from coachgraph.calltree.schema import CallTree, Pool, PoolEntry

__all__ = ["POOL_NAME", "SealToolsFormat"]

POOL_NAME = "seal-tools"
_TOOLS_FILE = "tool.jsonl"


@with_config(STRICT)
class _Call(TypedDict):
    api: Annotated[str, Field(min_length=1)]
    parameters: Any
    responses: NotRequired[list[str] | None]


@with_config(STRICT)
class _Query(TypedDict):
    id: str | int
    query: str
    calling: list[_Call]


@with_config(STRICT)
class _Api(TypedDict):
    api_name: Annotated[str, Field(min_length=1)]
    api_description: NotRequired[str]


_QUERY, _API = TypeAdapter(_Query), TypeAdapter(_Api)


def _entry(raw: dict[str, Any]) -> PoolEntry:
    check(_API, raw)
    return PoolEntry(name=raw["api_name"], kind="tool", description=raw.get("api_description", ""),
                     inputs={"parameters": raw.get("parameters", {}),
                             "required": raw.get("required", [])})


def _read_pool(reader: TraceFormat, path: Path) -> Iterator[Item]:
    entries = []
    for source, raw in iter_jsonl(path, reader.limits):
        item = raw if isinstance(raw, Rejected) else reader.convert(
            source, lambda r=raw: _entry(r), raw)
        if isinstance(item, PoolEntry):
            entries.append(item)
        else:
            yield item
    yield Pool(name=POOL_NAME, entries=entries)


def _tree(path: Path, raw: dict[str, Any], pool: dict[str, PoolEntry]) -> CallTree:
    check(_QUERY, raw)
    b = TreeBuilder(f"seal-tools:{raw['id']}")
    root = b.add(kind="chain", name="query", inputs={"query": raw["query"]})
    producers: dict[str, str] = {}
    for call in raw["calling"]:
        feeds = sorted({producers[s] for s in nested_strings(call["parameters"]) if s in producers},
                       key=lambda node: int(node[1:]))
        node = b.add(feeds[-1] if feeds else root, kind="tool", name=call["api"], tool=call["api"],
                     inputs=call["parameters"], outputs=call.get("responses"),
                     attributes={"depends_on": feeds} if feeds else {})
        producers.update((r, node) for r in call.get("responses") or [])
    used = dict.fromkeys(n.tool for n in b.nodes if n.tool)
    difficulty = str(raw["id"]).split("-")[-2] if str(raw["id"]).count("-") >= 2 else None
    return CallTree(trace_id=b.trace_id, source="seal-tools", task=raw["query"], nodes=b.nodes,
                    pool=[pool[name] for name in used if name in pool], pool_ref=POOL_NAME,
                    labels={"split": path.stem, "difficulty": difficulty})


@register_format("seal-tools")
class SealToolsFormat(TraceFormat):
    """The Seal-Tools folder (or query `.jsonl` files); `tool.jsonl` beside them is the pool."""

    title = "Seal-Tools queries"
    patterns = ("*.jsonl",)
    companions = (_TOOLS_FILE, "field.jsonl")

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(limits)
        self._pools: dict[Path, dict[str, PoolEntry]] = {}

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        record = sample.record
        return (sample.layout == "lines" and isinstance(record, dict)
                and "query" in record and "calling" in record)

    def _pool(self, folder: Path) -> Iterator[Item]:
        """Read `tool.jsonl` once per folder; later query files of the folder reuse it."""
        tools = folder / _TOOLS_FILE
        if folder in self._pools or not tools.is_file():
            return
        self._pools[folder] = {}
        for item in _read_pool(self, tools):
            if isinstance(item, Pool):
                self._pools[folder] = {e.name: e for e in item.entries}
            yield item

    def read_file(self, path: Path) -> Iterator[Item]:
        yield from self._pool(path.parent)
        pool = self._pools.get(path.parent, {})
        for source, raw in iter_jsonl(path, self.limits):
            yield raw if isinstance(raw, Rejected) else self.convert(
                source, lambda r=raw: _tree(path, r, pool), raw)
