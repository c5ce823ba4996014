"""OpenTelemetry spans, read from OTLP/JSON envelopes or flat span records, grouped into traces.

Span-based formats differ only in how attributes map to a `CallNode` (a `SpanConvention`);
reading, grouping by trace (across the files of one input: an exporter that writes one request
per file splits traces over files), the LangGraph refinement of foreign traces
(`_langgraph.refine`) and the all-or-nothing rule per trace are shared here. A JSON Lines record
is an `ExportTraceServiceRequest` / `TracesData`, a bare `ResourceSpans`, or one flat span.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest._foreign import tree_outcome
from coachgraph.calltree.ingest._langgraph import Hints, refine
from coachgraph.calltree.ingest._otlp_typed import typed_spans
from coachgraph.calltree.ingest._raw_span import RawSpan, hex_id, span_from_flat, span_from_otlp
from coachgraph.calltree.ingest._scan import Mismatch
from coachgraph.calltree.ingest._stream import iter_json_array, iter_jsonl, parse_prefix, walk
from coachgraph.calltree.ingest.base import (
    Item,
    Rejected,
    describe_error,
    excerpt,
    record_path,
    unreadable,
)
from coachgraph.calltree.ingest.limits import Held, Limits
from coachgraph.calltree.otel_names import NODE_ATTRS, SPAN_COUNT, TRACE_ATTR, own_tree_fields
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["SpanConvention", "exception_type", "json_attr", "ns_datetime", "read_span_files"]

_NODES = TypeAdapter(list[CallNode])


class SpanConvention(ABC):
    """Maps the attributes of one semantic convention onto calling-tree fields."""

    source: str = ""
    """The name stored as the `source` of the trees read with this convention."""

    @abstractmethod
    def node_fields(self, span: RawSpan, trace_id: str, parent_id: str | None) -> dict[str, Any]:
        """The `CallNode` fields of one span, under the node id `parent_id` (None for a root);
        a trace's nodes are validated together, in one call."""

    def hints(self, span: RawSpan) -> Hints:
        """What the span says about the LangGraph structure around it.

        By default, nothing; `refine` then only inherits agents from parents and settles agent
        nodes and handoff tools by name.
        """
        return Hints()

    def tree_fields(self, roots: list[RawSpan], nodes: list[CallNode]) -> dict[str, Any]:
        """Trace-level fields (task, success, session...) of a foreign trace (one our exports
        wrote states its own fields, which are used instead).

        By default, those every foreign reader derives alike (`_foreign.tree_outcome`).
        """
        return tree_outcome(self.source, nodes)

    def trace_id(self, spans: list[RawSpan]) -> str:
        """The id the trace is stored under; by default, the OTel trace id."""
        return spans[0].trace_id


_SPANS = "resourceSpans.item.scopeSpans.item.spans.item"
_BARE_SPANS = "scopeSpans.item.spans.item"
"""Where the spans are in a request (`TracesData`) and in one bare `ResourceSpans`."""


def _unwrap(source: str, value: Any) -> Iterator[tuple[str, Any, bool]]:
    """A JSON Lines record is a whole `ExportTraceServiceRequest` (`TracesData`), one bare
    `ResourceSpans` (as some file exporters write them), or one flat span."""
    if isinstance(value, dict) and ("resourceSpans" in value or "scopeSpans" in value):
        prefix = _SPANS if "resourceSpans" in value else _BARE_SPANS
        for label, span in walk(value, parse_prefix(prefix)):
            where = f"{source}:{label}"
            yield where, (Rejected(source=where, reason=span.reason)
                          if isinstance(span, Mismatch) else span), True
    else:
        yield source, value, False


def _records(path: Path, limits: Limits, held: Held | None = None
             ) -> Iterator[tuple[str, Any, bool]]:
    """Yield `(source, raw span or Rejected, is_otlp)` for every span of a file, counting the
    bytes of the records kept in `held`."""
    if path.suffix == ".jsonl":
        for source, value in iter_jsonl(path, limits, held=held):
            yield from _unwrap(source, value)
        return
    with path.open("rb") as handle:
        envelope = not handle.read(4096).lstrip().startswith(b"[")
    for source, value in iter_json_array(path, _SPANS if envelope else "item", limits,
                                         held=held):
        yield source, value, envelope


def read_span_files(paths: Iterable[Path], convention: SpanConvention,
                    limits: Limits) -> Iterator[Item]:
    """Read every span of the files of one input, then yield one tree (or one rejection) per
    trace, each record read within `limits`.

    A trace's spans may lie in several files, so every span waits until the last file is read:
    the bytes held count across the files against `max_held_bytes`. As for one file, a trace
    with an unreadable span is rejected whole, and every trace of the input is when a part of
    it cannot be read (a file that breaks off, a span whose trace is unknown, more than the
    held limit), since any trace may have lost spans there; each rejection names the first
    file the trace is in and keeps its spans.
    """
    traces: dict[str, list[RawSpan]] = {}
    first: dict[str, Path] = {}
    bad: dict[str, list[str]] = {}
    broken: Rejected | None = None
    held = Held(limits.max_held_bytes)
    count = 0
    for path in paths:
        spans, file_bad, file_broken = yield from _file_spans(path, limits, held)
        for span in spans:
            span.order, count = count, count + 1
            traces.setdefault(span.trace_id, []).append(span)
            first.setdefault(span.trace_id, path)
        for trace_id, places in file_bad.items():
            bad.setdefault(trace_id, []).extend(places)
        broken = broken or file_broken
    for trace_id, spans in traces.items():
        where = f"{first[trace_id]}:trace {trace_id}"
        reason = (f"trace may be incomplete: {broken.source} cannot be read" if broken else
                  f"trace has unreadable spans: {bad[trace_id][0]}" if trace_id in bad else None)
        yield (Rejected(source=where, reason=reason, **excerpt(spans, limits)) if reason
               else _tree(where, spans, convention, limits))


_FileSpans = tuple[list[RawSpan], dict[str, list[str]], Rejected | None]
"""A file's readable spans, the places of unreadable spans by trace, and the record after which
the file could not be read, or whose trace is unknown (None when neither happened)."""


def _file_spans(path: Path, limits: Limits, held: Held) -> Generator[Rejected, None, _FileSpans]:
    """Read one file's spans, yielding a rejection for each bad record on the way (and for
    the file, should it fail to be read: the other files of the input are still read)."""
    spans: list[RawSpan] = []
    bad: dict[str, list[str]] = {}
    broken: Rejected | None = None
    try:
        typed = typed_spans(path, limits, held)
        if typed is not None:
            return typed, bad, broken
        for order, (source, raw, is_otlp) in enumerate(_records(path, limits, held)):
            if isinstance(raw, Rejected):
                yield raw
                trace = _raw_trace_id(raw.partial)
                if trace is None:
                    broken = raw
                else:
                    bad.setdefault(trace, []).append(source)
                continue
            try:
                spans.append((span_from_otlp if is_otlp else span_from_flat)(raw, order))
            except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
                reason = describe_error(exc, record_path(source))
                rejected = Rejected(source=source, reason=f"bad span: {reason}",
                                    **excerpt(raw, limits))
                trace = _raw_trace_id(raw)
                if trace is None:
                    broken = rejected
                bad.setdefault(str(trace), []).append(source)
                yield rejected
    except OSError as exc:
        broken = unreadable(path, exc)
        yield broken
    return spans, bad, broken


def _raw_trace_id(raw: Any) -> str | None:
    """The trace a malformed span claims to belong to, when that much can be read."""
    if not isinstance(raw, dict):
        return None
    context = raw.get("context")
    value = raw.get("traceId") or (context.get("trace_id") if isinstance(context, dict) else None)
    return hex_id(value) if isinstance(value, str) else None


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
        fields = [convention.node_fields(s, trace_id, node_ids.get(s.parent_id) if s.parent_id
                                         else None) for s in ordered]
        if stated is None and not any(NODE_ATTRS["kind"] in s.attributes for s in spans):
            refine(fields, [convention.hints(s) for s in ordered])
        nodes = _NODES.validate_python(fields)
        roots = [s for s in ordered if s.parent_id not in known]
        tree = stated if stated is not None else convention.tree_fields(roots, nodes)
        return CallTree(trace_id=trace_id, nodes=nodes, **tree)
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError,
            ValidationError) as exc:
        return Rejected(source=where, reason=describe_error(exc), **excerpt(spans, limits))


def _sort_key(span: RawSpan) -> int:
    seq = span.attributes.get("coachgraph.node.seq")
    return int(seq) if seq is not None else (span.start_ns or 0)


def exception_type(span: RawSpan) -> str | None:
    """The type of the first exception a span records as an `exception` event, if any."""
    return next((str(e["attributes"]["exception.type"]) for e in span.events
                 if e["name"] == "exception" and "exception.type" in e["attributes"]), None)


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
