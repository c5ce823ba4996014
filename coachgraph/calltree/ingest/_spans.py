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
from coachgraph.calltree.ingest._stream import iter_json_array, iter_jsonl
from coachgraph.calltree.ingest.base import Item, Rejected, describe_error
from coachgraph.calltree.otel_names import NODE_ATTRS, SPAN_COUNT, TRACE_ATTR, own_tree_fields
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["SpanConvention", "exception_type", "json_attr", "ns_datetime", "read_span_file",
           "read_span_files"]

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
    """A JSON Lines record is a whole `ExportTraceServiceRequest` (`TracesData`), one bare
    `ResourceSpans` (as some file exporters write them), or one flat span."""
    if isinstance(value, dict) and isinstance(value.get("resourceSpans"), list):
        for i, resource in enumerate(value["resourceSpans"]):
            yield from _scope_spans(resource, f"{source}:$.resourceSpans[{i}]")
    elif isinstance(value, dict) and isinstance(value.get("scopeSpans"), list):
        yield from _scope_spans(value, f"{source}:$")
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
    return read_span_files([path], convention)


def read_span_files(paths: Iterable[Path], convention: SpanConvention) -> Iterator[Item]:
    """Read every span of several files, then yield one tree (or one rejection) per trace.

    A trace's spans may lie in several files; a trace with a span in a file that cannot be read
    to its end, or with an unreadable span, is rejected whole (naming the first file it is in).
    """
    traces: dict[str, list[RawSpan]] = {}
    first: dict[str, Path] = {}
    problems: dict[str, str] = {}
    count = 0
    for path in paths:
        spans, bad, broken = yield from _file_spans(path)
        for span in spans:
            span.order, count = count, count + 1
            traces.setdefault(span.trace_id, []).append(span)
            first.setdefault(span.trace_id, path)
        for trace_id in {s.trace_id for s in spans} | set(bad):
            if broken is not None:
                problems.setdefault(trace_id, f"trace may be incomplete: {broken.source} "
                                              "cannot be read")
            elif trace_id in bad:
                problems.setdefault(trace_id, f"trace has unreadable spans: {bad[trace_id][0]}")
    for trace_id, spans in traces.items():
        where = f"{first[trace_id]}:trace {trace_id}"
        yield (Rejected(source=where, reason=problems[trace_id]) if trace_id in problems
               else _tree(where, spans, convention))


_FileSpans = tuple[list[RawSpan], dict[str, list[str]], Rejected | None]
"""A file's readable spans, the places of unreadable spans by trace, and the record after which
the file could not be read (None when it was read to its end)."""


def _file_spans(path: Path) -> Generator[Rejected, None, _FileSpans]:
    """Read one file's spans, yielding a rejection for each bad record on the way."""
    typed = typed_spans(path)
    if typed is not None:
        return typed, {}, None
    spans: list[RawSpan] = []
    bad: dict[str, list[str]] = {}
    broken: Rejected | None = None
    for order, (source, raw, is_otlp) in enumerate(_records(path)):
        if isinstance(raw, Rejected):
            yield raw
            broken = raw
            continue
        try:
            spans.append((span_from_otlp if is_otlp else span_from_flat)(raw, order))
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            rejected = Rejected(source=source, reason=f"bad span: {describe_error(exc)}")
            trace = _raw_trace_id(raw)
            if trace is None:
                broken = rejected
            bad.setdefault(str(trace), []).append(source)
            yield rejected
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


def _tree(where: str, spans: list[RawSpan], convention: SpanConvention) -> Item:
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
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        return Rejected(source=where, reason=describe_error(exc))


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
