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
from coachgraph.calltree.ingest.base import FORMATS, Rejected, TraceFormat, get_format
from coachgraph.calltree.ingest.runner import IngestReport, ingest, write_quarantine

__all__ = ("FORMATS", "IngestReport", "Rejected", "TraceFormat", "get_format", "ingest",
           "write_quarantine")
