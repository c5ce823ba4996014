"""OpenTelemetry spans, read from OTLP/JSON envelopes or flat span records, grouped into traces.

Span-based formats differ only in how attributes map to a `CallNode` (a `SpanConvention`);
reading, grouping by trace and the all-or-nothing rule per trace are shared here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest._otlp_typed import typed_spans
from coachgraph.calltree.ingest._raw_span import RawSpan, hex_id, span_from_flat, span_from_otlp
from coachgraph.calltree.ingest._scan import Mismatch
from coachgraph.calltree.ingest._stream import iter_json_array, iter_jsonl, parse_prefix, walk
from coachgraph.calltree.ingest.base import Item, Rejected, describe_error, excerpt, record_path
from coachgraph.calltree.ingest.limits import Limits
from coachgraph.calltree.otel_names import NODE_ATTRS, SPAN_COUNT, TRACE_ATTR, own_tree_fields
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["SpanConvention", "json_attr", "ns_datetime", "read_span_file"]

_NODES = TypeAdapter(list[CallNode])


class SpanConvention(ABC):
    """Maps the attributes of one semantic convention onto calling-tree fields."""

    @abstractmethod
    def node_fields(self, span: RawSpan, trace_id: str, parent_id: str | None) -> dict[str, Any]:
        """The `CallNode` fields of one span, under the node id `parent_id` (None for a root);
        a trace's nodes are validated together, in one call."""

    @abstractmethod
    def tree_fields(self, roots: list[RawSpan], nodes: list[CallNode]) -> dict[str, Any]:
        """Trace-level fields (task, success, labels...) read from the root spans of a foreign
        trace (one our exports wrote states its own fields, which are used instead)."""

    def trace_id(self, spans: list[RawSpan]) -> str:
        """The id the trace is stored under; by default, the OTel trace id."""
        return spans[0].trace_id


_SPANS = "resourceSpans.item.scopeSpans.item.spans.item"


def _unwrap(source: str, value: Any) -> Iterator[tuple[str, Any, bool]]:
    """A JSON Lines record is a whole `ExportTraceServiceRequest` or one flat span."""
    if isinstance(value, dict) and "resourceSpans" in value:
        for label, span in walk(value, parse_prefix(_SPANS)):
            where = f"{source}:{label}"
            yield where, (Rejected(source=where, reason=span.reason)
                          if isinstance(span, Mismatch) else span), True
    else:
        yield source, value, False


def _records(path: Path, limits: Limits) -> Iterator[tuple[str, Any, bool]]:
    """Yield `(source, raw span or Rejected, is_otlp)` for every span of a file."""
    if path.suffix == ".jsonl":
        for source, value in iter_jsonl(path, limits, holds=True):
            yield from _unwrap(source, value)
        return
    with path.open("rb") as handle:
        envelope = not handle.read(4096).lstrip().startswith(b"[")
    for source, value in iter_json_array(path, _SPANS if envelope else "item", limits,
                                         holds=True):
        yield source, value, envelope


def read_span_file(path: Path, convention: SpanConvention, limits: Limits) -> Iterator[Item]:
    """Read every span of a file, then yield one tree (or one rejection) per trace."""
    spans = typed_spans(path, limits)
    if spans is not None:
        traces: dict[str, list[RawSpan]] = {}
        for span in spans:
            traces.setdefault(span.trace_id, []).append(span)
        yield from _trees(path, traces, {}, None, convention, limits)
        return
    yield from _read_generic(path, convention, limits)


def _read_generic(path: Path, convention: SpanConvention, limits: Limits) -> Iterator[Item]:
    """Any span file, malformed ones included: each bad record is rejected with its place."""
    traces: dict[str, list[RawSpan]] = {}
    bad: dict[str, list[str]] = {}
    broken: Rejected | None = None
    for order, (source, raw, is_otlp) in enumerate(_records(path, limits)):
        if isinstance(raw, Rejected):
            yield raw
            trace = _raw_trace_id(raw.partial)
            if trace is None:
                broken = raw
            else:
                bad.setdefault(trace, []).append(source)
            continue
        try:
            span = (span_from_otlp if is_otlp else span_from_flat)(raw, order)
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            reason = describe_error(exc, record_path(source))
            rejected = Rejected(source=source, reason=f"bad span: {reason}",
                                **excerpt(raw, limits))
            trace = _raw_trace_id(raw)
            if trace is None:
                broken = rejected
            bad.setdefault(str(trace), []).append(source)
            yield rejected
            continue
        traces.setdefault(span.trace_id, []).append(span)
    yield from _trees(path, traces, bad, broken, convention, limits)


def _raw_trace_id(raw: Any) -> str | None:
    """The trace a malformed span claims to belong to, when that much can be read."""
    if not isinstance(raw, dict):
        return None
    context = raw.get("context")
    value = raw.get("traceId") or (context.get("trace_id") if isinstance(context, dict) else None)
    return hex_id(value) if isinstance(value, str) else None


def _trees(
    path: Path, traces: dict[str, list[RawSpan]], bad: dict[str, list[str]],
    broken: Rejected | None, convention: SpanConvention, limits: Limits,
) -> Iterator[Item]:
    for trace_id, spans in traces.items():
        where = f"{path}:trace {trace_id}"
        if broken is not None:
            yield Rejected(source=where, reason=f"trace may be incomplete: {broken.source} "
                                                "cannot be read", **excerpt(spans, limits))
        elif trace_id in bad:
            yield Rejected(source=where, reason=f"trace has unreadable spans: {bad[trace_id][0]}",
                           **excerpt(spans, limits))
        else:
            yield _tree(where, spans, convention, limits)


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


def _tree(where: str, spans: list[RawSpan], convention: SpanConvention, limits: Limits) -> Item:
    try:
        _check_count(spans)
        stated = _stated(spans)
        trace_id = str(stated.pop("trace_id")) if stated is not None else convention.trace_id(spans)
        known = {s.span_id for s in spans}
        ordered = sorted(spans, key=lambda s: (_sort_key(s), s.order))
        node_ids = {s.span_id: s.attributes.get(NODE_ATTRS["id"], s.span_id) for s in spans}
        nodes = _NODES.validate_python(
            [convention.node_fields(s, trace_id, node_ids.get(s.parent_id) if s.parent_id else None)
             for s in ordered])
        roots = [s for s in ordered if s.parent_id not in known]
        fields = stated if stated is not None else convention.tree_fields(roots, nodes)
        return CallTree(trace_id=trace_id, nodes=nodes, **fields)
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError,
            ValidationError) as exc:
        return Rejected(source=where, reason=describe_error(exc), **excerpt(spans, limits))


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
