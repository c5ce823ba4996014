"""`openinference`: OpenInference spans (Phoenix/Arize), as OTLP/JSON or flat span records.

`openinference.span.kind` gives the kind; `agent.name`, `tool.name`, `input.value`,
`output.value`, `llm.token_count.*`, `session.id` and `user.id` fill the node; `metadata` (the
JSON of the LangChain run metadata the LangChain instrumentation records: `thread_id`,
`lc_agent_name`, `langgraph_checkpoint_ns`...) names the agent and session where the span does
not; `graph.node.*` attributes stay in `attributes`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest._foreign import TOKEN_NAMES, usage_from
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
from coachgraph.calltree.otel_names import own_node_fields

__all__ = ["OpenInferenceConvention", "OpenInferenceFormat"]

SPAN_KINDS: dict[str, str] = {
    "AGENT": "agent", "TOOL": "tool", "LLM": "llm", "CHAIN": "chain", "RETRIEVER": "retriever",
    "RERANKER": "retriever", "EMBEDDING": "other", "GUARDRAIL": "other", "EVALUATOR": "other",
    "PROMPT": "other", "DECISION": "other", "UNKNOWN": "other",
}
"""`openinference.span.kind` → node kind."""

_OTHER_CONVENTIONS = ("gen_ai.", "traceloop.")
"""Attribute prefixes of the conventions `otlp-json` reads: a file whose first span has one
is not read as OpenInference (unless that span also has an OpenInference span kind)."""

_CONSUMED = {"openinference.span.kind", "agent.name", "tool.name", "input.value", "output.value",
             "session.id", "user.id", "metadata", *TOKEN_NAMES}


def _kind(attrs: dict[str, Any]) -> str:
    """The node kind; a span with `tool.name` is a tool call even where the LangChain
    instrumentation calls it `AGENT` (it does so for any run with "agent" in its name, such as
    a `transfer_to_research_agent` tool)."""
    if "tool.name" in attrs:
        return "tool"
    return SPAN_KINDS.get(str(attrs.get("openinference.span.kind", "")).upper(), "other")


def _metadata(attrs: dict[str, Any]) -> dict[str, Any]:
    metadata = json_attr(attrs.get("metadata"))
    return metadata if isinstance(metadata, dict) else {}


class OpenInferenceConvention(SpanConvention):
    """Maps OpenInference span attributes onto calling-tree fields."""

    source = "openinference"

    def node_fields(self, span: RawSpan, trace_id: str, parent_id: str | None) -> dict[str, Any]:
        attrs = span.attributes
        metadata = _metadata(attrs)
        kept = {k: v for k, v in attrs.items() if k not in _CONSUMED}
        fields: dict[str, Any] = {
            "kind": _kind(attrs),
            "inputs": json_attr(attrs.get("input.value")),
            "outputs": json_attr(attrs.get("output.value")),
            "usage": usage_from(attrs),
            "session_id": attrs.get("session.id") or session_of(metadata),
            "user_id": attrs.get("user.id"),
            "error": span.status_message, "status": span.status,
            "attributes": kept | ({"metadata": metadata} if metadata else {}),
        }
        fields.update(own_node_fields(attrs))
        fields.setdefault("id", span.span_id)
        fields.update(parent_id=parent_id, trace_id=trace_id, name=span.name, agent=attrs.get("agent.name"),
                      tool=attrs.get("tool.name"), start=ns_datetime(span.start_ns), end=ns_datetime(span.end_ns))
        return fields

    def hints(self, span: RawSpan) -> Hints:
        attrs = span.attributes
        is_agent = _kind(attrs) == "agent"
        return Hints(metadata=_metadata(attrs), error_type=exception_type(span),
                     agent_span=(span.name or None) if is_agent else None)


@register_format("openinference")
class OpenInferenceFormat(TraceFormat):
    """OTLP/JSON envelopes or flat span records (JSON array or JSON Lines) with OpenInference;
    a trace's spans are joined across a folder's files."""

    title = "OpenInference spans"
    joins_files = True

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        keys = sampled_span_keys(sample)
        return keys is not None and "openinference.span.kind" in keys

    @classmethod
    def accepts(cls, sample: Sample) -> bool:
        """Spans that name no OpenTelemetry GenAI or Traceloop attribute (a file whose first
        span lacks a span kind may still be OpenInference)."""
        keys = sampled_span_keys(sample)
        return keys is not None and not any(k.startswith(_OTHER_CONVENTIONS) for k in keys)

    def read_files(self, files: Sequence[Path]) -> Iterator[Item]:
        return read_span_files(files, OpenInferenceConvention(), self.limits)

    def read_file(self, path: Path) -> Iterator[Item]:
        return self.read_files([path])
