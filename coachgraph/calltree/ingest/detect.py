"""What format a file is in, read from its first record: for `--format auto`, and for telling a
user who named the wrong format what the file looks like instead."""

from __future__ import annotations

import io
from itertools import islice
from pathlib import Path

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest._scan import scan_records
from coachgraph.calltree.ingest._stream import iter_jsonl, parse_prefix, walk
from coachgraph.calltree.ingest.base import FORMATS, Layout, Sample, TraceFormat
from coachgraph.calltree.ingest.limits import Limits

__all__ = ["BARE_SPANS", "SAMPLE_BYTES", "SPANS", "detect", "misread", "sample_file"]

SAMPLE_BYTES = 4 * 1024 * 1024
"""Detection reads at most this much of a file; a first record that does not end within it
leaves the format undetected (and the file is read as the format named)."""

SPANS = "resourceSpans.item.scopeSpans.item.spans.item"
"""Where the spans of an OTLP/JSON `ExportTraceServiceRequest` (`TracesData`) are."""

BARE_SPANS = "scopeSpans.item.spans.item"
"""Where the spans of one bare `ResourceSpans` are (a JSON Lines record some exporters write)."""

_SAMPLE_LINES = 100
"""OTLP/JSON lines read, at most, for a first span (an exporter may write empty batches)."""

_OBJECT_PATHS: tuple[tuple[str, Layout], ...] = ((SPANS, "spans"), ("traces.item", "traces"))


def sample_file(path: Path, limits: Limits) -> Sample | None:
    """The first record of a file and its layout; None when none can be read from its start."""
    if path.suffix == ".jsonl":
        return _first_line(path, limits)
    with path.open("rb") as handle:
        window = handle.read(SAMPLE_BYTES)
    start = window.lstrip()[:1]
    if start == b"[":
        record = _first_at(window, "item", limits)
        return Sample(path, "array", record) if record is not None else None
    if start != b"{":
        return None
    if len(window) < SAMPLE_BYTES:
        return _whole(path, window, limits)
    for prefix, layout in _OBJECT_PATHS:
        record = _first_at(window, prefix, limits)
        if record is not None:
            return Sample(path, layout, record)
    return None


def _whole(path: Path, text: bytes, limits: Limits) -> Sample | None:
    """A whole small object file, parsed once: an envelope, a `traces` object, or a record."""
    try:
        document = loads(text, max_depth=limits.max_depth + len(parse_prefix(SPANS)))
    except ValueError:
        return None
    for prefix, layout in _OBJECT_PATHS:
        first = next((v for _, v in walk(document, parse_prefix(prefix))), None)
        if isinstance(first, dict):
            return Sample(path, layout, first)
    return Sample(path, "object", document)


def _first_at(window: bytes, prefix: str, limits: Limits) -> object | None:
    """The first record at `prefix` within the window, parsed (None: there is none)."""
    steps = parse_prefix(prefix)
    for found in scan_records(io.BytesIO(window), steps, len(window), 0, chunk=1 << 16):
        data = getattr(found, "data", None)
        if data is None or getattr(found, "depth", 0) > limits.max_depth:
            return None
        try:
            return loads(data, max_depth=limits.max_depth)
        except ValueError:
            return None
    return None


def _first_line(path: Path, limits: Limits) -> Sample | None:
    """The first record of a JSON Lines file; for OTLP/JSON lines (`TracesData` or bare
    `ResourceSpans`), the first span, from the first of the first lines that holds one."""
    bounded = limits.model_copy(update={"max_record_bytes": min(limits.max_record_bytes,
                                                                SAMPLE_BYTES)})
    for _, value in islice(iter_jsonl(path, bounded), _SAMPLE_LINES):
        prefix = _envelope(value)
        if prefix is None:
            return Sample(path, "lines", value)
        span = next((v for _, v in walk(value, parse_prefix(prefix)) if isinstance(v, dict)),
                    None)
        if span is not None:
            return Sample(path, "spans", span)
    return None


def _envelope(value: object) -> str | None:
    """Where the spans of an OTLP/JSON line are (None: the line is a record of its own)."""
    if isinstance(value, dict) and "resourceSpans" in value:
        return SPANS
    if isinstance(value, dict) and "scopeSpans" in value:
        return BARE_SPANS
    return None


def detect(sample: Sample) -> type[TraceFormat] | None:
    """The format that recognises a sample, or None (the formats' shapes do not overlap)."""
    return next((fmt for fmt in FORMATS.values() if fmt.recognises(sample)), None)


def misread(reader: TraceFormat, sample: Sample) -> str | None:
    """Why `reader` should not read a file: it is plainly another format (None: read it)."""
    if reader.accepts(sample):
        return None
    other = detect(sample)
    if other is None or other.name == reader.name:
        return None
    return (f"this looks like {other.title}, not {reader.name}; read it with "
            f"--format {other.name} (or --format auto)")
