"""`otlp-json`: OpenTelemetry traces in OTLP/JSON with the GenAI semantic conventions.

Both attribute sets are read: the older one (`gen_ai.system`, `gen_ai.usage.prompt_tokens`,
prompt and completion events) and the latest (`gen_ai.provider.name`,
`gen_ai.usage.input_tokens`, `gen_ai.input.messages`, `gen_ai.tool.call.arguments`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest._raw_span import RawSpan, sampled_span_keys
from coachgraph.calltree.ingest._spans import (
    SpanConvention,
    json_attr,
    ns_datetime,
    read_span_file,
)
from coachgraph.calltree.ingest.base import Item, Sample, TraceFormat, register_format
from coachgraph.calltree.otel_names import (
    NODE_ATTRS,
    OPERATION_TO_KIND,
    SPAN_COUNT,
    own_node_fields,
)
from coachgraph.calltree.schema import CallNode

__all__ = ["GenAIConvention", "OtlpJsonFormat", "first_text"]

_INPUT_KEYS = ("gen_ai.input.messages", "gen_ai.tool.call.arguments", "gen_ai.prompt")
_OUTPUT_KEYS = ("gen_ai.output.messages", "gen_ai.tool.call.result", "gen_ai.completion")
_USAGE_KEYS = {
    "gen_ai.usage.input_tokens": "input_tokens",
    "gen_ai.usage.prompt_tokens": "input_tokens",
    "gen_ai.usage.output_tokens": "output_tokens",
    "gen_ai.usage.completion_tokens": "output_tokens",
}
_EVENT_FIELDS = {
    "gen_ai.content.prompt": ("inputs", "gen_ai.prompt"),
    "gen_ai.content.completion": ("outputs", "gen_ai.completion"),
}
_CONSUMED = {"gen_ai.operation.name", "gen_ai.agent.name", "gen_ai.tool.name",
             "gen_ai.conversation.id", "error.type", "coachgraph.node.seq", "coachgraph.trace", SPAN_COUNT,
             *_INPUT_KEYS, *_OUTPUT_KEYS, *_USAGE_KEYS, *NODE_ATTRS.values()}


def first_text(value: Any) -> str | None:
    """The first piece of text in a message list or value: how a trace's task is found."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return first_text(value[0])
    if isinstance(value, dict):
        for key in ("content", "text", "parts", "input", "query", "question"):
            if key in value:
                return first_text(value[key])
    return None


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((json_attr(attrs[k]) for k in keys if k in attrs), None)


def _kind(span: RawSpan) -> str:
    operation = span.attributes.get("gen_ai.operation.name") or span.name.split(" ", 1)[0]
    return OPERATION_TO_KIND.get(operation, "other")


_STANDARD_FIELDS: dict[str, Callable[[RawSpan], Any]] = {
    "kind": _kind,
    "inputs": lambda span: _first(span.attributes, _INPUT_KEYS),
    "outputs": lambda span: _first(span.attributes, _OUTPUT_KEYS),
    "usage": lambda span: {name: span.attributes[key] for key, name in _USAGE_KEYS.items()
                           if key in span.attributes},
    "session_id": lambda span: span.attributes.get("gen_ai.conversation.id"),
    "error": lambda span: span.status_message or span.attributes.get("error.type"),
    "attributes": lambda span: {k: v for k, v in span.attributes.items() if k not in _CONSUMED},
    "status": lambda span: span.status,
}
"""Node fields read from the standard attributes; each is derived only when our own exact
attributes (`own_node_fields`) do not state it, so exported traces are not decoded twice."""


def _from_events(span: RawSpan, skip: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for event in span.events:
        field_key = _EVENT_FIELDS.get(event["name"])
        if field_key and field_key[0] not in skip and field_key[1] in event["attributes"]:
            found[field_key[0]] = json_attr(event["attributes"][field_key[1]])
    return found


class GenAIConvention(SpanConvention):
    """Maps `gen_ai.*` span attributes onto calling-tree fields."""

    def node_fields(self, span: RawSpan, trace_id: str, parent_id: str | None) -> dict[str, Any]:
        attrs = span.attributes
        own = own_node_fields(attrs)
        fields = {name: derive(span) for name, derive in _STANDARD_FIELDS.items()
                  if name not in own}
        if span.events:
            fields.update(_from_events(span, own))
        fields.update(own)
        fields.setdefault("id", span.span_id)
        fields.update(parent_id=parent_id, trace_id=trace_id, name=span.name,
                      agent=attrs.get("gen_ai.agent.name"), tool=attrs.get("gen_ai.tool.name"),
                      start=ns_datetime(span.start_ns), end=ns_datetime(span.end_ns))
        return fields

    def tree_fields(self, roots: list[RawSpan], nodes: list[CallNode]) -> dict[str, Any]:
        root = next((n for n in nodes if n.parent_id is None), None)
        status = {"ok": True, "error": False}.get(roots[0].status) if roots else None
        return {"source": "otlp-json", "success": status,
                "task": first_text(root.inputs) if root is not None else None,
                "session_id": root.session_id if root is not None else None}


@register_format("otlp-json")
class OtlpJsonFormat(TraceFormat):
    """OTLP/JSON files: one `ExportTraceServiceRequest` per `.json` file or per `.jsonl` line."""

    title = "OTLP/JSON spans (OpenTelemetry GenAI)"

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        keys = sampled_span_keys(sample)
        return keys is not None and not any(k.startswith("openinference.") for k in keys)

    def read_file(self, path: Path) -> Iterator[Item]:
        return read_span_file(path, GenAIConvention(), self.limits)
