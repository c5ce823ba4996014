"""Helpers the corpus adapters share: sequential node ids and the strings inside a value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from coachgraph.calltree.schema import CallNode

__all__ = ["TreeBuilder", "nested_strings"]


class TreeBuilder:
    """Collects the nodes of one trace, numbering them `n0`, `n1`, ... in call order."""

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self.nodes: list[CallNode] = []

    def add(self, parent_id: str | None = None, **fields: Any) -> str:
        """Append a node under `parent_id`; returns its id."""
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(CallNode(id=node_id, parent_id=parent_id, trace_id=self.trace_id,
                                   **fields))
        return node_id


def nested_strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (dict values and list items, recursively)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from nested_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from nested_strings(item)
