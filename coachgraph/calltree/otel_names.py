"""Attribute names shared by the OTLP/JSON exporter and the span readers.

Standard GenAI and OpenInference names carry what they can; the `coachgraph.*` attributes
carry the rest (our node kinds, exact inputs and outputs, trace labels and pools), so that a
trace exported as OTLP/JSON reads back as the same `CallTree`.
"""

from __future__ import annotations

from typing import Any

from coachgraph.calltree._json import loads

__all__ = [
    "KIND_TO_OPERATION",
    "NODE_ATTRS",
    "OPERATION_TO_KIND",
    "SPAN_COUNT",
    "TRACE_ATTR",
    "own_node_fields",
    "own_tree_fields",
]

OPERATION_TO_KIND: dict[str, str] = {
    "invoke_agent": "agent",
    "create_agent": "other",
    "execute_tool": "tool",
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "retrieval": "retriever",
    "invoke_workflow": "chain",
    "embeddings": "other",
    "execute_task": "chain",
}
"""`gen_ai.operation.name` → node kind (unknown operations map to `other`). Creating an agent
is not one of its turns, so `create_agent` is `other`; `execute_task` is Traceloop's operation
for a chain step."""

KIND_TO_OPERATION: dict[str, str] = {
    "agent": "invoke_agent",
    "tool": "execute_tool",
    "skill": "execute_tool",
    "llm": "chat",
    "retriever": "retrieval",
    "chain": "invoke_workflow",
}

TRACE_ATTR = "coachgraph.trace"
"""On root spans: the JSON of the tree's own fields (task, outcome, labels, pool, decisions)."""

SPAN_COUNT = "coachgraph.trace.span_count"
"""On root spans: how many spans the trace has, so a reader can tell when some were lost."""

NODE_ATTRS: dict[str, str] = {
    "id": "coachgraph.node.id",
    "kind": "coachgraph.node.kind",
    "inputs": "coachgraph.node.inputs",
    "outputs": "coachgraph.node.outputs",
    "usage": "coachgraph.node.usage",
    "attributes": "coachgraph.node.attributes",
    "error": "coachgraph.node.error",
    "status": "coachgraph.node.status",
    "session_id": "session.id",
    "user_id": "user.id",
}
"""Node field → attribute holding it (JSON-encoded for structured fields)."""

_JSON_FIELDS = {"inputs", "outputs", "usage", "attributes"}


def own_node_fields(attributes: dict[str, Any]) -> dict[str, Any]:
    """The node fields a span states through our own attributes (exact values)."""
    fields = {}
    for field, key in NODE_ATTRS.items():
        if key in attributes:
            value = attributes[key]
            fields[field] = loads(value) if field in _JSON_FIELDS else value
    return fields


def own_tree_fields(attributes: dict[str, Any]) -> dict[str, Any] | None:
    """The tree fields a root span carries in `coachgraph.trace`, or None for foreign spans."""
    raw = attributes.get(TRACE_ATTR)
    return loads(raw) if raw is not None else None
