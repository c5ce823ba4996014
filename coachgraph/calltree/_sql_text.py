"""The statements of the SQL calling-tree stores: the schema, inserts, and the WHERE clauses of
trace queries, kept apart from the store logic that runs them."""

from __future__ import annotations

from typing import Any

from coachgraph.calltree.base import TraceQuery

__all__ = ["AGENT_OUTCOMES", "INSERT_NODE", "INSERT_TRACE", "OUTCOME_FIELD", "STAT_SCALARS", "TABLES",
           "ddl_statements", "where"]

_FILTERS: dict[str, str] = {
    "task": "LOWER(t.task) LIKE ? ESCAPE '!'",
    "agent": "EXISTS (SELECT 1 FROM nodes n WHERE n.trace_id = t.trace_id AND n.agent = ?)",
    "tool": "EXISTS (SELECT 1 FROM nodes n WHERE n.trace_id = t.trace_id AND n.tool = ?)",
    "source": "t.source = ?",
}
_OUTCOME_SQL: dict[str, str] = {
    "success": "t.success = 1", "failure": "t.success = 0", "unknown": "t.success IS NULL",
}
OUTCOME_FIELD: dict[Any, str] = {1: "success", 0: "failure", None: "unknown"}


def _like(text: str) -> str:
    escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


_FILTER_VALUE = {"task": _like, "agent": str, "tool": str, "source": str}


def where(query: TraceQuery) -> tuple[str, list[str]]:
    """The WHERE clause (over `traces t`) and its arguments for `query`."""
    given = {k: v for k, v in query.model_dump(exclude={"outcome"}).items() if v}
    clauses = [_FILTERS[k] for k in given]
    if query.outcome is not None:
        clauses.append(_OUTCOME_SQL[query.outcome])
    return " AND ".join(clauses) or "1 = 1", [_FILTER_VALUE[k](v) for k, v in given.items()]


STAT_SCALARS = {
    "traces": "SELECT COUNT(*) FROM traces",
    "nodes": "SELECT COUNT(*) FROM nodes",
    "agents": "SELECT COUNT(DISTINCT agent) FROM nodes WHERE agent IS NOT NULL",
    "tools": "SELECT COUNT(DISTINCT tool) FROM nodes WHERE tool IS NOT NULL",
    "pools": "SELECT COUNT(*) FROM pools",
}

INSERT_TRACE = (
    "INSERT INTO traces (trace_id, source, task, success, outcome, pool_ref, blamed_agent, "
    "n_nodes, content_hash, schema_version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_NODE = (
    "INSERT INTO nodes (trace_id, seq, id, parent_id, kind, name, agent, tool, status, "
    "start_us, end_us, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
AGENT_OUTCOMES = (
    "SELECT a.agent, t.success, COUNT(*) FROM "
    "(SELECT DISTINCT trace_id, agent FROM nodes WHERE agent IS NOT NULL) a "
    "JOIN traces t ON t.trace_id = a.trace_id GROUP BY a.agent, t.success"
)

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY, source TEXT, task TEXT, success INTEGER, outcome TEXT,
    pool_ref TEXT, blamed_agent TEXT, n_nodes INTEGER NOT NULL, content_hash TEXT NOT NULL,
    schema_version INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    trace_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, parent_id TEXT,
    kind TEXT NOT NULL, name TEXT, agent TEXT, tool TEXT, status TEXT, start_us BIGINT,
    end_us BIGINT, doc TEXT NOT NULL, PRIMARY KEY (trace_id, seq));
CREATE INDEX IF NOT EXISTS nodes_by_agent ON nodes (agent) WHERE agent IS NOT NULL;
CREATE INDEX IF NOT EXISTS nodes_by_tool ON nodes (tool) WHERE tool IS NOT NULL;
CREATE INDEX IF NOT EXISTS traces_by_source ON traces (source);
CREATE TABLE IF NOT EXISTS pools (
    pool TEXT PRIMARY KEY, content_hash TEXT NOT NULL, n_entries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pool_entries (
    pool TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (pool, seq));
"""


def ddl_statements() -> list[str]:
    """The schema as separate statements.

    Node rows carry whole JSON documents (often kilobytes), which SQLite keeps best in a rowid
    table: a trace's rows are written together, so their rowids and pages stay contiguous.
    Node ids need no unique index of their own: `CallTree` validation already guarantees them
    unique within a trace, and no query looks a node up by id, so it would only slow writes.
    Nor do parents: `children` reads the trace's own rows through the primary key, whose range
    is a few hundred rows even for large traces, which costs less than an index every write pays.
    """
    return [stmt.strip() for stmt in TABLES.split(";") if stmt.strip()]
