"""Calling trees: the schema, stores, ingest formats, tracer and analysis."""

from coachgraph.calltree.base import (
    CallTreeStore,
    OutcomeCounts,
    StoreStats,
    TraceQuery,
    TraceSummary,
)
from coachgraph.calltree.schema import (
    SCHEMA_VERSION,
    CallNode,
    CallTree,
    DecisionPoint,
    Pool,
    PoolEntry,
)
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.calltree.stores import open_store

__all__ = (
    "SCHEMA_VERSION",
    "CallNode",
    "CallTree",
    "CallTreeStore",
    "DecisionPoint",
    "OutcomeCounts",
    "Pool",
    "PoolEntry",
    "SQLiteCallTreeStore",
    "StoreStats",
    "TraceQuery",
    "TraceSummary",
    "open_store",
)
