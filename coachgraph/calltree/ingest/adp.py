"""`adp`: Agent Data Protocol standardised trajectories (`<source>/sample_std.json`).

Trace ids are `adp:<source>:<index>` because sample ids repeat within a source.
A flat sequence: a root (the trajectory, task = first user text observation) with one child
per content item in order. `api_action` and `code_action` are tool calls, `message_action`s are
the agent's messages (kind `llm`), observations are `other` nodes that point at the action they
answer (`attributes["observes"]`). Success is known only for sources named `*_successful`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, NotRequired

from pydantic import TypeAdapter, with_config
from typing_extensions import TypedDict

from coachgraph.calltree.ingest._builder import TreeBuilder
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
from coachgraph.calltree.schema import CallTree

__all__ = ["AdpFormat"]


_CLASSES = Literal["api_action", "code_action", "message_action", "text_observation",
                   "image_observation", "web_observation"]


@with_config(STRICT)
class _Item(TypedDict):
    class_: _CLASSES
    description: NotRequired[str | None]
    source: NotRequired[str | None]
    name: NotRequired[str | None]


@with_config(STRICT)
class _Api(_Item):
    function: str
    kwargs: NotRequired[Any]


@with_config(STRICT)
class _Code(_Item):
    content: Any
    language: NotRequired[str | None]


@with_config(STRICT)
class _Content(_Item):
    content: Any


@with_config(STRICT)
class _Trajectory(TypedDict):
    id: str | int
    content: list[_Item]
    details: NotRequired[dict[str, Any] | None]


_SHAPE = TypeAdapter(_Trajectory)
_ITEM_SHAPES = {"api_action": TypeAdapter(_Api), "code_action": TypeAdapter(_Code),
                "message_action": TypeAdapter(_Content)}
"""Item classes with fields of their own (observations need none beyond `_Item`)."""


def _api(item: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "tool", "name": item["function"], "tool": item["function"],
            "inputs": item.get("kwargs"), "attributes": {"description": item.get("description")}}


def _code(item: dict[str, Any]) -> dict[str, Any]:
    tool = f"code_action:{item.get('language') or 'unknown'}"
    return {"kind": "tool", "name": tool, "tool": tool, "inputs": item["content"],
            "attributes": {"description": item.get("description")}}


def _message(item: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "llm", "name": "message", "outputs": item["content"],
            "attributes": {"description": item.get("description")}}


def _observation(item: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in item.items() if k not in ("class_", "source", "name")}
    return {"kind": "other", "name": f"{item['class_']}:{item.get('source') or 'environment'}",
            "outputs": body.get("content", body),
            "attributes": {"from": item.get("name")} if item.get("name") else {}}


_ITEMS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "api_action": _api,
    "code_action": _code,
    "message_action": _message,
    "text_observation": _observation,
    "image_observation": _observation,
    "web_observation": _observation,
}
_ACTIONS = {"api_action", "code_action", "message_action"}


def _task(content: list[dict[str, Any]]) -> str | None:
    return next((c["content"] for c in content if c["class_"] == "text_observation"
                 and c.get("source") == "user" and isinstance(c.get("content"), str)), None)


def _check(raw: dict[str, Any]) -> None:
    check(_SHAPE, raw)
    for index, item in enumerate(raw["content"]):
        shape = _ITEM_SHAPES.get(item["class_"])
        if shape is not None:
            check(shape, item, f"$.content[{index}]")


def _tree(dataset: str, index: int, raw: dict[str, Any]) -> CallTree:
    _check(raw)
    b = TreeBuilder(f"adp:{dataset}:{index}")
    content = raw["content"]
    root = b.add(kind="chain", name=dataset, attributes={"details": raw.get("details") or {}})
    last_action: str | None = None
    for item in content:
        fields = _ITEMS[item["class_"]](item)
        if item["class_"] not in _ACTIONS and last_action is not None:
            fields["attributes"]["observes"] = last_action
        node = b.add(root, **fields)
        last_action = node if item["class_"] in _ACTIONS else last_action
    success = True if dataset.endswith("_successful") else None
    return CallTree(trace_id=b.trace_id, source="adp", task=_task(content), success=success,
                    nodes=b.nodes, labels={"dataset": dataset, "id": raw["id"]})


@register_format("adp")
class AdpFormat(TraceFormat):
    """The ADP samples folder, or single `sample_std.json` files (their folder names the source)."""

    title = "ADP trajectories"
    patterns = ("sample_std.json",)

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        record = sample.record
        return (sample.layout == "array" and isinstance(record, dict)
                and isinstance(record.get("content"), list) and "id" in record)

    def read_file(self, path: Path) -> Iterator[Item]:
        dataset = path.parent.name
        for index, (source, raw) in enumerate(iter_json_array(path, limits=self.limits)):
            yield raw if isinstance(raw, Rejected) else self.convert(
                source, lambda r=raw, i=index: _tree(dataset, i, r), raw)
