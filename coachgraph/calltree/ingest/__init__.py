"""Ingest formats, registered by name in `FORMATS` (importing this package registers them all)."""

from coachgraph.calltree.ingest import (  # noqa: F401  (imported for registration)
    adp,
    agent_rec,
    langsmith,
    nestful,
    openinference,
    otlp,
    seal_tools,
    toolbench,
    who_and_when,
)
from coachgraph.calltree.ingest.base import FORMATS, Rejected, Sample, TraceFormat, get_format
from coachgraph.calltree.ingest.detect import detect, sample_file
from coachgraph.calltree.ingest.limits import Limits, format_size, parse_size
from coachgraph.calltree.ingest.quarantine import Quarantine, write_quarantine
from coachgraph.calltree.ingest.runner import AUTO, IngestReport, StrictStop, ingest

__all__ = ("AUTO", "FORMATS", "IngestReport", "Limits", "Quarantine", "Rejected", "Sample",
           "StrictStop", "TraceFormat", "detect", "format_size", "get_format", "ingest",
           "parse_size", "sample_file", "write_quarantine")
