"""`openinference`: OpenInference spans (Phoenix/Arize), as OTLP/JSON or flat span records.

`openinference.span.kind` gives the kind; `agent.name`, `tool.name`, `input.value`,
`output.value`, `llm.token_count.*`, `session.id` and `user.id` fill the node; `graph.node.*`
attributes stay in `attributes`.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from coachgraph.calltree.ingest.otlp import first_text
from coachgraph.calltree.otel_names import own_node_fields
from coachgraph.calltree.schema import CallNode

__all__ = ["OpenInferenceConvention", "OpenInferenceFormat"]

SPAN_KINDS: dict[str, str] = {
    "AGENT": "agent", "TOOL": "tool", "LLM": "llm", "CHAIN": "chain", "RETRIEVER": "retriever",
}
_USAGE = {"llm.token_count.prompt": "input_tokens", "llm.token_count.completion": "output_tokens",
          "llm.token_count.total": "total_tokens"}
_CONSUMED = {"openinference.span.kind", "agent.name", "tool.name", "input.value", "output.value",
             "session.id", "user.id", *_USAGE}


class OpenInferenceConvention(SpanConvention):
    """Maps OpenInference span attributes onto calling-tree fields."""

    def node_fields(self, span: RawSpan, trace_id: str, parent_id: str | None) -> dict[str, Any]:
        attrs = span.attributes
        fields: dict[str, Any] = {
            "kind": SPAN_KINDS.get(str(attrs.get("openinference.span.kind", "")).upper(), "other"),
            "inputs": json_attr(attrs.get("input.value")),
            "outputs": json_attr(attrs.get("output.value")),
            "usage": {name: attrs[key] for key, name in _USAGE.items() if key in attrs},
            "session_id": attrs.get("session.id"), "user_id": attrs.get("user.id"),
            "error": span.status_message, "status": span.status,
            "attributes": {k: v for k, v in attrs.items() if k not in _CONSUMED},
        }
        fields.update(own_node_fields(attrs))
        fields.setdefault("id", span.span_id)
        fields.update(parent_id=parent_id, trace_id=trace_id, name=span.name, agent=attrs.get("agent.name"),
                      tool=attrs.get("tool.name"), start=ns_datetime(span.start_ns), end=ns_datetime(span.end_ns))
        return fields

    def tree_fields(self, roots: list[RawSpan], nodes: list[CallNode]) -> dict[str, Any]:
        root = next((n for n in nodes if n.parent_id is None), None)
        return {"source": "openinference",
                "success": {"ok": True, "error": False}.get(roots[0].status) if roots else None,
                "task": first_text(root.inputs) if root is not None else None,
                "session_id": root.session_id if root is not None else None}


@register_format("openinference")
class OpenInferenceFormat(TraceFormat):
    """OTLP/JSON envelopes or flat span records (JSON array or JSON Lines) with OpenInference."""

    title = "OpenInference spans"

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        keys = sampled_span_keys(sample)
        return keys is not None and "openinference.span.kind" in keys

    @classmethod
    def accepts(cls, sample: Sample) -> bool:
        keys = sampled_span_keys(sample)
        return keys is not None and not any(k.startswith("gen_ai.") for k in keys)

    def read_file(self, path: Path) -> Iterator[Item]:
        return read_span_file(path, OpenInferenceConvention(), self.limits)
