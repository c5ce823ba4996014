"""OpenTelemetry spans, read from OTLP/JSON envelopes or flat span records, grouped into traces.

Span-based formats differ only in how attributes map to a `CallNode` (a `SpanConvention`);
reading, grouping by trace and the all-or-nothing rule per trace are shared here.
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest._stream import iter_json_array, iter_jsonl
from coachgraph.calltree.ingest.base import Item, Rejected, describe_error
from coachgraph.calltree.otel_names import NODE_ATTRS, SPAN_COUNT, TRACE_ATTR, own_tree_fields
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["RawSpan", "SpanConvention", "read_span_file"]

_STATUS_CODES: dict[Any, str] = {
    0: "unset", 1: "ok", 2: "error", "STATUS_CODE_UNSET": "unset", "STATUS_CODE_OK": "ok",
    "STATUS_CODE_ERROR": "error", "UNSET": "unset", "OK": "ok", "ERROR": "error",
}


@dataclass(slots=True)
class RawSpan:
    """The convention-independent part of a span, with attributes decoded to plain values.

    A plain slotted class checked by hand: a large file holds hundreds of thousands of spans,
    and these few checks are all a span needs before its convention maps it to a `CallNode`
    (which pydantic validates in full).
    """

    trace_id: str
    span_id: str
    parent_id: str | None = None
    name: str = ""
    start_ns: int | None = None
    end_ns: int | None = None
    status: str = "unset"
    status_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    order: int = 0

    def __post_init__(self) -> None:
        for name in ("trace_id", "span_id"):
            value = getattr(self, name)
            if type(value) is not str or not value:
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        for name in ("parent_id", "status_message"):
            value = getattr(self, name)
            if value is not None and type(value) is not str:
                raise ValueError(f"{name} must be a string, not {value!r}")
        if type(self.name) is not str:
            raise ValueError(f"name must be a string, not {self.name!r}")


def _kvlist(values: list[dict[str, Any]]) -> dict[str, Any]:
    decoded = {}
    for kv in values:
        key, value = kv["key"], kv.get("value", {})
        # Most attributes are plain strings: take them without the general dispatch.
        string = value.get("stringValue") if type(value) is dict and len(value) == 1 else None
        decoded[key] = string if type(string) is str else any_value(value)
    return decoded


_ANY_VALUE: dict[str, Callable[[Any], Any]] = {
    "stringValue": str,
    "boolValue": bool,
    "intValue": int,
    "doubleValue": float,
    "bytesValue": lambda v: base64.b64decode(v).hex(),
    "arrayValue": lambda v: [any_value(x) for x in v.get("values", [])],
    "kvlistValue": lambda v: _kvlist(v.get("values", [])),
}


def any_value(value: dict[str, Any]) -> Any:
    """Decode an OTLP/JSON `AnyValue` (`{"stringValue": ...}`, `{"intValue": "3"}`, ...)."""
    for key, raw in value.items():
        return _ANY_VALUE[key](raw)
    return None


def _ns(value: Any) -> int | None:
    return int(value) if value not in (None, "", 0, "0") else None


def _iso_ns(value: Any) -> int | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _hex_id(value: Any) -> str | None:
    return str(value).removeprefix("0x") if value not in (None, "") else None


def span_from_otlp(raw: dict[str, Any], order: int) -> RawSpan:
    """A span of an OTLP/JSON `ExportTraceServiceRequest`."""
    status = raw.get("status") or {}
    return RawSpan(
        trace_id=raw["traceId"], span_id=raw["spanId"], parent_id=_hex_id(raw.get("parentSpanId")),
        name=raw.get("name", ""), start_ns=_ns(raw.get("startTimeUnixNano")),
        end_ns=_ns(raw.get("endTimeUnixNano")), status=_STATUS_CODES[status.get("code", 0)],
        status_message=status.get("message") or None, order=order,
        attributes=_kvlist(raw.get("attributes", [])),
        events=[{"name": e.get("name", ""), "attributes": _kvlist(e.get("attributes", []))}
                for e in raw.get("events", [])],
    )


def span_from_flat(raw: dict[str, Any], order: int) -> RawSpan:
    """A span as the OTel SDK console exporter and Phoenix write it (`context`, ISO times)."""
    context = raw["context"]
    status = raw.get("status") or {}
    return RawSpan(
        trace_id=_hex_id(context["trace_id"]) or "", span_id=_hex_id(context["span_id"]) or "",
        parent_id=_hex_id(raw.get("parent_id")), name=raw.get("name", ""),
        start_ns=_iso_ns(raw.get("start_time")), end_ns=_iso_ns(raw.get("end_time")),
        status=_STATUS_CODES[status.get("status_code", "UNSET")],
        status_message=status.get("description") or None, order=order,
        attributes=dict(raw.get("attributes") or {}),
        events=[{"name": e.get("name", ""), "attributes": dict(e.get("attributes") or {})}
                for e in raw.get("events", [])],
    )


class SpanConvention(ABC):
    """Maps the attributes of one semantic convention onto calling-tree fields."""

    @abstractmethod
    def node(self, span: RawSpan, trace_id: str, parent_id: str | None) -> CallNode:
        """The `CallNode` for one span, under the node id `parent_id` (None for a root)."""

    @abstractmethod
    def tree_fields(self, roots: list[RawSpan], nodes: list[CallNode]) -> dict[str, Any]:
        """Trace-level fields (task, success, labels...) read from the root spans of a foreign
        trace (one our exports wrote states its own fields, which are used instead)."""

    def trace_id(self, spans: list[RawSpan]) -> str:
        """The id the trace is stored under; by default, the OTel trace id."""
        return spans[0].trace_id


def _scope_spans(resource: Any, where: str) -> Iterator[tuple[str, Any, bool]]:
    try:
        spans = [(f"{where}.scopeSpans[{j}].spans[{k}]", span)
                 for j, scope in enumerate(resource.get("scopeSpans", []))
                 for k, span in enumerate(scope.get("spans", []))]
    except (AttributeError, TypeError) as exc:
        yield where, Rejected(source=where, reason=f"bad resourceSpans entry: {exc}"), True
        return
    for source, span in spans:
        yield source, span, True


def _unwrap(source: str, value: Any) -> Iterator[tuple[str, Any, bool]]:
    """A JSON Lines record is a whole `ExportTraceServiceRequest` or one flat span."""
    if isinstance(value, dict) and isinstance(value.get("resourceSpans"), list):
        for i, resource in enumerate(value["resourceSpans"]):
            yield from _scope_spans(resource, f"{source}:$.resourceSpans[{i}]")
    else:
        yield source, value, False


def _records(path: Path) -> Iterator[tuple[str, Any, bool]]:
    """Yield `(source, raw span or Rejected, is_otlp)` for every span of a file."""
    if path.suffix == ".jsonl":
        for source, value in iter_jsonl(path):
            yield from _unwrap(source, value)
        return
    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    if head.startswith(b"["):
        for source, value in iter_json_array(path):
            yield source, value, False
        return
    for source, value in iter_json_array(path, "resourceSpans.item", "$.resourceSpans"):
        if isinstance(value, Rejected):
            yield source, value, True
        else:
            yield from _scope_spans(value, source)


def read_span_file(path: Path, convention: SpanConvention) -> Iterator[Item]:
    """Read every span of a file, then yield one tree (or one rejection) per trace."""
    traces: dict[str, list[RawSpan]] = {}
    bad: dict[str, list[str]] = {}
    broken: Rejected | None = None
    for order, (source, raw, is_otlp) in enumerate(_records(path)):
        if isinstance(raw, Rejected):
            yield raw
            broken = raw
            continue
        try:
            span = (span_from_otlp if is_otlp else span_from_flat)(raw, order)
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            rejected = Rejected(source=source, reason=f"bad span: {describe_error(exc)}")
            trace = _raw_trace_id(raw)
            if trace is None:
                broken = rejected
            bad.setdefault(str(trace), []).append(source)
            yield rejected
            continue
        traces.setdefault(span.trace_id, []).append(span)
    yield from _trees(path, traces, bad, broken, convention)


def _raw_trace_id(raw: Any) -> str | None:
    """The trace a malformed span claims to belong to, when that much can be read."""
    if not isinstance(raw, dict):
        return None
    context = raw.get("context")
    value = raw.get("traceId") or (context.get("trace_id") if isinstance(context, dict) else None)
    return _hex_id(value) if isinstance(value, str) else None


def _trees(
    path: Path, traces: dict[str, list[RawSpan]], bad: dict[str, list[str]],
    broken: Rejected | None, convention: SpanConvention,
) -> Iterator[Item]:
    for trace_id, spans in traces.items():
        where = f"{path}:trace {trace_id}"
        if broken is not None:
            yield Rejected(source=where, reason=f"trace may be incomplete: {broken.source} "
                                                "cannot be read")
        elif trace_id in bad:
            yield Rejected(source=where, reason=f"trace has unreadable spans: {bad[trace_id][0]}")
        else:
            yield _tree(where, spans, convention)


def _check_count(spans: list[RawSpan]) -> None:
    """Our exports state each trace's span count on its root; a mismatch means lost spans."""
    stated = next((s.attributes[SPAN_COUNT] for s in spans if SPAN_COUNT in s.attributes), None)
    if stated is not None and int(stated) != len(spans):
        raise ValueError(f"trace has {len(spans)} spans but its root states {stated}")


def _stated(spans: list[RawSpan]) -> dict[str, Any] | None:
    """The tree fields our own exports state on a root span (parsed once per trace), if any."""
    for span in spans:
        stated = own_tree_fields(span.attributes)
        if isinstance(stated, dict):
            return stated
        if stated is not None:
            raise ValueError(f"{TRACE_ATTR} must hold a JSON object, not {type(stated).__name__}")
    return None


def _tree(where: str, spans: list[RawSpan], convention: SpanConvention) -> Item:
    try:
        _check_count(spans)
        stated = _stated(spans)
        trace_id = str(stated.pop("trace_id")) if stated is not None else convention.trace_id(spans)
        known = {s.span_id for s in spans}
        ordered = sorted(spans, key=lambda s: (_sort_key(s), s.order))
        node_ids = {s.span_id: s.attributes.get(NODE_ATTRS["id"], s.span_id) for s in spans}
        nodes = [convention.node(s, trace_id, node_ids.get(s.parent_id) if s.parent_id else None)
                 for s in ordered]
        roots = [s for s in ordered if s.parent_id not in known]
        fields = stated if stated is not None else convention.tree_fields(roots, nodes)
        return CallTree(trace_id=trace_id, nodes=nodes, **fields)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        return Rejected(source=where, reason=describe_error(exc))


def _sort_key(span: RawSpan) -> int:
    seq = span.attributes.get("coachgraph.node.seq")
    return int(seq) if seq is not None else (span.start_ns or 0)


def json_attr(value: Any) -> Any:
    """Attribute values that hold JSON documents (messages, arguments) are decoded; others kept."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return loads(value)
        except ValueError:
            return value
    return value


def ns_datetime(value: int | None) -> datetime | None:
    """Nanoseconds since the epoch as an aware UTC datetime (microsecond precision)."""
    if value is None:
        return None
    seconds, nanos = divmod(value, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
