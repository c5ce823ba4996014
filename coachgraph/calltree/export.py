"""Writers: stored trees as OTLP/JSON (GenAI conventions) for any OpenTelemetry backend.

The agent-rec writer lives with its reader in `ingest/agent_rec.py`; `EXPORTERS` names both.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest.agent_rec import write_agent_rec
from coachgraph.calltree.otel_names import KIND_TO_OPERATION, NODE_ATTRS, SPAN_COUNT, TRACE_ATTR
from coachgraph.calltree.schema import SCHEMA_VERSION, CallNode, CallTree, Pool

__all__ = ["EXPORTERS", "otlp_request", "write_otlp_json"]

logger = logging.getLogger(__name__)

_STATUS_CODE = {"unset": 0, "ok": 1, "error": 2}
_USAGE_NAMES = {"input_tokens": "gen_ai.usage.input_tokens",
                "output_tokens": "gen_ai.usage.output_tokens"}


def _hex(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _ns(moment: datetime | None) -> str:
    if moment is None:
        return "0"
    return str(int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000)


def _node_attributes(node: CallNode, seq: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": KIND_TO_OPERATION.get(node.kind, node.kind),
        "gen_ai.agent.name": node.agent, "gen_ai.tool.name": node.tool,
        "gen_ai.conversation.id": node.session_id, "coachgraph.node.seq": seq,
        **{_USAGE_NAMES[k]: v for k, v in node.usage.items() if k in _USAGE_NAMES},
    }
    own = node.model_dump(mode="json", include=set(NODE_ATTRS))
    for field, key in NODE_ATTRS.items():
        value = own[field]
        attrs[key] = json.dumps(value) if field in ("inputs", "outputs", "usage",
                                                     "attributes") else value
    if node.status == "error":
        attrs["error.type"] = (node.error or "error").split(":", 1)[0][:200]
    return {k: v for k, v in attrs.items() if v is not None}


def _span(tree: CallTree, node: CallNode, seq: int, trace_hex: str) -> dict[str, Any]:
    attrs = _node_attributes(node, seq)
    if node.parent_id is None:
        attrs[TRACE_ATTR] = tree.model_dump_json(exclude={"nodes"})
        attrs[SPAN_COUNT] = len(tree.nodes)
    span: dict[str, Any] = {
        "traceId": trace_hex, "spanId": _hex(f"{tree.trace_id}\x00{node.id}", 16),
        "name": node.name, "kind": 1,
        "startTimeUnixNano": _ns(node.start), "endTimeUnixNano": _ns(node.end),
        "attributes": [{"key": k, "value": _any_value(v)} for k, v in attrs.items()],
        "status": {"code": _STATUS_CODE[node.status], **({"message": node.error}
                                                        if node.error else {})},
    }
    if node.parent_id is not None:
        span["parentSpanId"] = _hex(f"{tree.trace_id}\x00{node.parent_id}", 16)
    return span


def otlp_request(tree: CallTree) -> dict[str, Any]:
    """One trace as an OTLP/JSON `ExportTraceServiceRequest` (one resource, one scope)."""
    trace_hex = _hex(tree.trace_id, 32)
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "coachgraph"}}]},
        "scopeSpans": [{
            "scope": {"name": "coachgraph.calltree", "version": str(SCHEMA_VERSION)},
            "spans": [_span(tree, n, i, trace_hex) for i, n in enumerate(tree.nodes)],
        }],
    }]}


def write_otlp_json(trees: Iterable[CallTree], out: Path, pools: Iterable[Pool] = ()) -> int:
    """Write trees as OTLP/JSON, streaming; `.jsonl` gives one request per line. Returns the count.

    Shared pools have no OpenTelemetry form and are not written (`pools` is accepted so that
    every exporter has one signature).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    lines = out.suffix == ".jsonl"
    with out.open("w", encoding="utf-8") as handle:
        handle.write("" if lines else '{"resourceSpans": [\n')
        for tree in trees:
            request = otlp_request(tree)
            text = json.dumps(request if lines else request["resourceSpans"][0])
            handle.write(text + "\n" if lines else ("," if count else "") + text + "\n")
            count += 1
        handle.write("" if lines else "]}\n")
    logger.info("wrote %d traces as OTLP/JSON to %s", count, out)
    return count


EXPORTERS: dict[str, Callable[[Iterable[CallTree], Path, Iterable[Pool]], int]] = {
    "otlp-json": write_otlp_json,
    "agent-rec": write_agent_rec,
}
"""Export format name → writer `(trees, out, pools) -> number of traces written`."""
