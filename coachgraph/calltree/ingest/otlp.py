"""`otlp-json`: OpenTelemetry traces in OTLP/JSON with the GenAI semantic conventions.

Both GenAI attribute sets are read: the older one (`gen_ai.system`,
`gen_ai.usage.prompt_tokens`, prompt and completion events) and the latest
(`gen_ai.provider.name`, `gen_ai.usage.input_tokens`, `gen_ai.input.messages`,
`gen_ai.tool.call.arguments`, `gen_ai.conversation.id`, `gen_ai.agent.name`). So are the
attributes Traceloop's OpenLLMetry instrumentations add: `traceloop.span.kind`,
`traceloop.entity.input` / `.output` (the callback's own wrapper around the values),
`traceloop.entity.path`, `traceloop.association.properties.*` (the LangChain run metadata:
thread id, `lc_agent_name`, `langgraph_checkpoint_ns`...), `llm.request.type`, the indexed
`gen_ai.prompt.N.*` / `gen_ai.completion.N.*` and the LangGraph `goto` spans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest._foreign import TOKEN_NAMES, first_text, usage_from
from coachgraph.calltree.ingest._langgraph import Hints, session_of
from coachgraph.calltree.ingest._raw_span import RawSpan, sampled_span_keys
from coachgraph.calltree.ingest._spans import (
    SpanConvention,
    exception_type,
    json_attr,
    ns_datetime,
    read_span_files,
)
from coachgraph.calltree.ingest.base import Item, Sample, TraceFormat, register_format
from coachgraph.calltree.otel_names import (
    NODE_ATTRS,
    OPERATION_TO_KIND,
    SPAN_COUNT,
    own_node_fields,
)

__all__ = ["GenAIConvention", "OtlpJsonFormat", "first_text"]

_INPUT_KEYS = ("traceloop.entity.input", "gen_ai.input.messages", "gen_ai.tool.call.arguments",
               "gen_ai.prompt")
_OUTPUT_KEYS = ("traceloop.entity.output", "gen_ai.output.messages", "gen_ai.tool.call.result",
                "gen_ai.completion")
_EVENT_FIELDS = {
    "gen_ai.content.prompt": ("inputs", "gen_ai.prompt"),
    "gen_ai.content.completion": ("outputs", "gen_ai.completion"),
}
_ASSOCIATION = "traceloop.association.properties."
"""Traceloop's prefix for association properties (LangChain metadata, among others)."""

TRACELOOP_KINDS: dict[str, str] = {
    "workflow": "chain", "task": "chain", "agent": "agent", "tool": "tool", "unknown": "other",
}
"""`traceloop.span.kind` → node kind, for spans without a known `gen_ai.operation.name`."""

REQUEST_TYPES: dict[str, str] = {
    "chat": "llm", "completion": "llm", "embedding": "other", "rerank": "retriever",
}
"""Traceloop's `llm.request.type` → node kind."""

_GOTO = "langgraph.command.goto_node"
_CONSUMED = {"gen_ai.operation.name", "gen_ai.agent.name", "gen_ai.tool.name",
             "gen_ai.conversation.id", "error.type", "coachgraph.node.seq", "coachgraph.trace",
             SPAN_COUNT, "traceloop.span.kind", "traceloop.entity.name", "traceloop.entity.path",
             "gen_ai.task.input", "gen_ai.task.output", *_INPUT_KEYS, *_OUTPUT_KEYS,
             *TOKEN_NAMES, *NODE_ATTRS.values()}
_INDEXED = ("gen_ai.prompt.", "gen_ai.completion.")


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    key = next((k for k in keys if k in attrs), None)
    if key is None:
        return None
    value = json_attr(attrs[key])
    return _unwrap_callback(value) if key.startswith("traceloop.entity.") else value


def _unwrap_callback(value: Any) -> Any:
    """The value inside Traceloop's callback record (`{"inputs": ..., "tags": ..., "metadata":
    ..., "kwargs": ...}`, `{"input_str": ...}`, `{"outputs": ...}`, `{"output": ...}`)."""
    if not isinstance(value, dict) or "kwargs" not in value:
        return value
    for key in ("inputs", "outputs", "output"):
        if value.get(key) is not None:
            return value[key]
    return json_attr(value["input_str"]) if "input_str" in value else value


def _indexed_messages(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]] | None:
    """Traceloop's older `gen_ai.prompt.0.role` / `gen_ai.prompt.0.content` attributes."""
    messages: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        index, _, field = key.removeprefix(prefix).partition(".")
        if key.startswith(prefix) and index.isdigit() and field:
            messages.setdefault(int(index), {})[field] = json_attr(value)
    return [messages[i] for i in sorted(messages)] or None


def _kind(span: RawSpan) -> str:
    """The kind by the most specific attribute that names one: the GenAI operation, Traceloop's
    span kind, its request type, else the operation the span name starts with."""
    attrs = span.attributes
    for table, key in ((OPERATION_TO_KIND, "gen_ai.operation.name"),
                       (TRACELOOP_KINDS, "traceloop.span.kind"), (REQUEST_TYPES, "llm.request.type")):
        value = attrs.get(key)
        if isinstance(value, str) and value in table:
            return table[value]
    return OPERATION_TO_KIND.get(span.name.split(" ", 1)[0], "other")


def _metadata(attrs: dict[str, Any]) -> dict[str, Any]:
    """LangChain run metadata as Traceloop writes it (association properties)."""
    return {k.removeprefix(_ASSOCIATION): v for k, v in attrs.items() if k.startswith(_ASSOCIATION)}


def _error(span: RawSpan) -> str | None:
    kind, message = span.attributes.get("error.type"), span.status_message
    if kind and message and not message.startswith(str(kind)):
        return f"{kind}: {message}"
    return message or kind


def _attributes(attrs: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in attrs.items() if k not in _CONSUMED
            and not k.startswith(_ASSOCIATION) and not k.startswith(_INDEXED)}
    return kept | ({"metadata": metadata} if metadata else {})


_STANDARD_FIELDS: dict[str, Callable[[RawSpan, dict[str, Any]], Any]] = {
    "kind": lambda span, _: _kind(span),
    "inputs": lambda span, _: _first(span.attributes, _INPUT_KEYS)
    or _indexed_messages(span.attributes, "gen_ai.prompt."),
    "outputs": lambda span, _: _first(span.attributes, _OUTPUT_KEYS)
    or _indexed_messages(span.attributes, "gen_ai.completion."),
    "usage": lambda span, _: usage_from(span.attributes),
    "session_id": lambda span, metadata: span.attributes.get("gen_ai.conversation.id")
    or session_of(metadata),
    "user_id": lambda _, metadata: metadata.get("user_id"),
    "error": lambda span, _: _error(span),
    "attributes": lambda span, metadata: _attributes(span.attributes, metadata),
    "status": lambda span, _: span.status,
}
"""Node fields read from the standard attributes (and the span's LangChain metadata); each is
derived only when our own exact attributes (`own_node_fields`) do not state it, so exported
traces are not decoded twice."""


def _from_events(span: RawSpan, skip: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for event in span.events:
        field_key = _EVENT_FIELDS.get(event["name"])
        if field_key and field_key[0] not in skip and field_key[1] in event["attributes"]:
            found[field_key[0]] = json_attr(event["attributes"][field_key[1]])
    return found


def _agent_span(span: RawSpan, operation: Any) -> str | None:
    """The agent an agent span is named after when no attribute names it: `invoke_agent X`
    (the GenAI span name) or a Traceloop `agent` span's entity name."""
    if operation == "invoke_agent":
        return span.name.removeprefix("invoke_agent").strip() or None
    if span.attributes.get("traceloop.span.kind") == "agent":
        return str(span.attributes.get("traceloop.entity.name") or "") or None
    return None


class GenAIConvention(SpanConvention):
    """Maps `gen_ai.*` span attributes (and Traceloop's additions) onto calling-tree fields."""

    source = "otlp-json"

    def node_fields(self, span: RawSpan, trace_id: str, parent_id: str | None) -> dict[str, Any]:
        attrs = span.attributes
        own = own_node_fields(attrs)
        metadata = _metadata(attrs)
        fields = {name: derive(span, metadata) for name, derive in _STANDARD_FIELDS.items()
                  if name not in own}
        if span.events:
            fields.update(_from_events(span, own))
        fields.update(own)
        fields.setdefault("id", span.span_id)
        agent = attrs.get("gen_ai.agent.name")
        if agent and attrs.get("gen_ai.operation.name") == "create_agent":
            # The agent being created, not one acting: kept as an attribute.
            fields["attributes"] = {**fields.get("attributes", {}), "gen_ai.agent.name": agent}
            agent = None
        fields.update(parent_id=parent_id, trace_id=trace_id, name=span.name, agent=agent,
                      tool=attrs.get("gen_ai.tool.name"), start=ns_datetime(span.start_ns),
                      end=ns_datetime(span.end_ns))
        return fields

    def hints(self, span: RawSpan) -> Hints:
        attrs = span.attributes
        path = str(attrs.get("traceloop.entity.path") or "")
        own = attrs.get("traceloop.entity.name")
        names = tuple(p for p in path.split(".") if p) + ((str(own),) if own else ())
        operation = attrs.get("gen_ai.operation.name")
        goto = attrs.get(_GOTO) if operation == "goto" else None
        error_type = attrs.get("error.type") or exception_type(span)
        return Hints(metadata=_metadata(attrs), path=names,
                     error_type=str(error_type) if error_type else None,
                     goto=str(goto) if goto else None, agent_span=_agent_span(span, operation))


@register_format("otlp-json")
class OtlpJsonFormat(TraceFormat):
    """OTLP/JSON files: one `ExportTraceServiceRequest` per `.json` file, or per `.jsonl` line
    (or one `ResourceSpans` per line); a trace's spans are joined across a folder's files."""

    title = "OTLP/JSON spans (OpenTelemetry GenAI)"
    joins_files = True

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        keys = sampled_span_keys(sample)
        return keys is not None and not any(k.startswith("openinference.") for k in keys)

    def read_files(self, files: Sequence[Path]) -> Iterator[Item]:
        return read_span_files(files, GenAIConvention(), self.limits)

    def read_file(self, path: Path) -> Iterator[Item]:
        return self.read_files([path])
