"""`nestful`: NESTFUL nested API-call sequences, an explicit data-flow graph per sample.

Each sample is a root with one node per call in order; a call whose arguments reference
`$varN...$` hangs under the latest call labelled `varN` (all producers are kept in
`attributes["depends_on"]`). `var_result` is the sink that gathers the answer (kind `chain`).
Each `*-data.json` reads its `*-spec.json` as the shared pool `nestful:<group>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NotRequired

from pydantic import Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from coachgraph.calltree.ingest._builder import TreeBuilder, nested_strings
from coachgraph.calltree.ingest._stream import iter_json_array
from coachgraph.calltree.ingest.base import (
    STRICT,
    Item,
    Rejected,
    Sample,
    TraceFormat,
    check,
    register_format,
)
from coachgraph.calltree.schema import CallTree, Pool, PoolEntry

__all__ = ["NestfulFormat"]

_REFERENCE = re.compile(r"\$(var\d+)")
_SINK = "var_result"
_PARAMETER_KEYS = ("query_parameters", "path_parameters", "parameters", "arguments")


@with_config(STRICT)
class _Call(TypedDict):
    name: Annotated[str, Field(min_length=1)]
    arguments: NotRequired[Any]
    label: NotRequired[str | None]


@with_config(STRICT)
class _Sample(TypedDict):
    input: str
    output: list[_Call]


@with_config(STRICT)
class _Spec(TypedDict):
    name: Annotated[str, Field(min_length=1)]
    description: NotRequired[str]


_SAMPLE, _SPEC = TypeAdapter(_Sample), TypeAdapter(_Spec)


def _entry(raw: dict[str, Any]) -> PoolEntry:
    check(_SPEC, raw)
    inputs = {k: raw[k] for k in _PARAMETER_KEYS if k in raw}
    return PoolEntry(name=raw["name"], kind="tool", description=raw.get("description", ""),
                     inputs=inputs or None)


def _read_pool(reader: TraceFormat, path: Path, name: str) -> Iterator[Item]:
    entries = []
    for source, raw in iter_json_array(path, limits=reader.limits):
        item = raw if isinstance(raw, Rejected) else reader.convert(
            source, lambda r=raw: _entry(r), raw)
        if isinstance(item, PoolEntry):
            entries.append(item)
        else:
            yield item
    yield Pool(name=name, entries=entries)


def _tree(trace_id: str, raw: dict[str, Any], pool: Pool | None) -> CallTree:
    check(_SAMPLE, raw)
    b = TreeBuilder(trace_id)
    root = b.add(kind="chain", name="input", inputs={"input": raw["input"]})
    labels: dict[str, str] = {}
    for call in raw["output"]:
        refs = {m for s in nested_strings(call.get("arguments", {})) for m in _REFERENCE.findall(s)}
        feeds = sorted({labels[r] for r in refs if r in labels}, key=lambda n: int(n[1:]))
        sink = call["name"] == _SINK
        node = b.add(feeds[-1] if feeds else root, kind="chain" if sink else "tool",
                     name=call["name"], tool=None if sink else call["name"],
                     inputs=call.get("arguments"), attributes={
                         k: v for k, v in (("label", call.get("label")), ("depends_on", feeds)) if v})
        if call.get("label"):
            labels[call["label"]] = node
    known = {e.name: e for e in pool.entries} if pool else {}
    used = dict.fromkeys(n.tool for n in b.nodes if n.tool)
    return CallTree(trace_id=trace_id, source="nestful", task=raw["input"], nodes=b.nodes,
                    pool=[known[t] for t in used if t in known],
                    pool_ref=pool.name if pool else None)


@register_format("nestful")
class NestfulFormat(TraceFormat):
    """NESTFUL `*-data.json` files (or their folder); the matching `*-spec.json` is the pool."""

    title = "NESTFUL samples"
    patterns = ("*-data.json",)
    companions = ("*-spec.json",)

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        record = sample.record
        return (sample.layout == "array" and isinstance(record, dict)
                and "input" in record and isinstance(record.get("output"), list))

    def read_file(self, path: Path) -> Iterator[Item]:
        group = path.name.removesuffix("-data.json").removesuffix(".json")
        spec = path.with_name(f"{group}-spec.json")
        pool = None
        if spec.is_file():
            for item in _read_pool(self, spec, f"nestful:{group}"):
                pool = item if isinstance(item, Pool) else pool
                yield item
        for index, (source, raw) in enumerate(iter_json_array(path, limits=self.limits)):
            yield raw if isinstance(raw, Rejected) else self.convert(
                source, lambda r=raw, i=index: _tree(f"nestful:{group}:{i}", r, pool), raw)
