"""The SQL shared by the SQLite and PostgreSQL stores: one row per trace, one per node.

Each node row keeps the indexed columns (kind, name, agent, tool, parent) beside the node's full
JSON, so a trace is rebuilt with one range scan and one JSON parse, and queries never parse JSON.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import ValidationError

from coachgraph.calltree.base import CallTreeStore, OutcomeCounts, StoreStats
from coachgraph.calltree.schema import SCHEMA_VERSION, CallNode, CallTree, Pool, PoolEntry
from coachgraph.errors import StoreError

__all__ = ["SqlCallTreeStore", "ddl_statements"]

_FILTERS: dict[str, str] = {
    "task": "LOWER(t.task) LIKE ? ESCAPE '!'",
    "agent": "EXISTS (SELECT 1 FROM nodes n WHERE n.trace_id = t.trace_id AND n.agent = ?)",
    "tool": "EXISTS (SELECT 1 FROM nodes n WHERE n.trace_id = t.trace_id AND n.tool = ?)",
}
_OUTCOME_FIELD: dict[Any, str] = {1: "success", 0: "failure", None: "unknown"}


def _like(text: str) -> str:
    escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


_FILTER_VALUE = {"task": _like, "agent": str, "tool": str}


def _micros(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1_000_000)


_LOOKUP_CHUNK = 500
"""Trace ids per stored-hash lookup: well under every backend's limit on bound parameters."""
_NODE_JSON = CallNode.__pydantic_serializer__.to_json
_TREE_JSON = CallTree.__pydantic_serializer__.to_json
_HEAD_EXCLUDE = frozenset({"nodes"})


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A tree as it is stored: the JSON of its head and of each node, and its content hash.

    Serialising straight to bytes lets one SHA-256 pass over the joined documents give the
    same digest as hashing their text, without encoding everything a second time.
    """

    tree: CallTree
    head: str
    docs: list[str]
    digest: str

    @classmethod
    def of(cls, tree: CallTree) -> _Encoded:
        head = _TREE_JSON(tree, exclude=_HEAD_EXCLUDE)
        docs = [_NODE_JSON(node) for node in tree.nodes]
        digest = hashlib.sha256(b"\n".join([head, *docs])).hexdigest()
        return cls(tree, head.decode(), [doc.decode() for doc in docs], digest)


class SqlCallTreeStore(CallTreeStore):
    """A store over a DB-API connection; subclasses supply the DDL and transactions."""

    placeholder: ClassVar[str] = "?"

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """A cursor inside a write transaction (committed on success, rolled back on error)."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A cursor inside a read transaction that sees one consistent snapshot."""

    def _q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _text(self, value: str | None) -> str | None:
        """By default, text goes into columns unchanged; override where the backend forbids some."""
        return value

    def _check_version(self, cur: Any) -> None:
        cur.execute(self._q("SELECT value FROM meta WHERE key = ?"), ("schema_version",))
        row = cur.fetchone()
        if row is None:
            cur.execute(self._q("INSERT INTO meta (key, value) VALUES (?, ?)"),
                        ("schema_version", str(SCHEMA_VERSION)))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"store schema_version {row[0]} is newer than {SCHEMA_VERSION}; "
                             "upgrade coachgraph to read it")

    def put_tree(self, tree: CallTree) -> bool:
        return self.put_trees([tree]) == 1

    def put_trees(self, trees: Iterable[CallTree]) -> int:
        """Store a batch of trees in one transaction: all of them, or (on error) none.

        Each tree still replaces its stored version as a whole, so no reader ever sees part of
        a trace; one commit, one hash lookup and one insert statement per batch instead of per
        trace is what makes bulk ingest fast.
        """
        encoded = [_Encoded.of(tree) for tree in trees]
        with self._write() as cur:
            stored = self._stored_hashes(cur, {e.tree.trace_id for e in encoded})
            current, pending, changed = dict(stored), {}, 0
            for item in encoded:
                trace_id = item.tree.trace_id
                if current.get(trace_id) != item.digest:
                    current[trace_id] = item.digest
                    pending[trace_id] = item
                    changed += 1
            self._write_pending(cur, [k for k in pending if k in stored], list(pending.values()))
        return changed

    def _stored_hashes(self, cur: Any, trace_ids: set[str]) -> dict[str, str]:
        """Trace id → stored content hash, for those of `trace_ids` already stored."""
        ids, found = sorted(trace_ids), {}
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start:start + _LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            cur.execute(self._q(f"SELECT trace_id, content_hash FROM traces "
                                f"WHERE trace_id IN ({marks})"), chunk)
            found.update(cur.fetchall())
        return found

    def _write_pending(self, cur: Any, replaced: list[str], items: list[_Encoded]) -> None:
        if replaced:
            cur.executemany(self._q("DELETE FROM nodes WHERE trace_id = ?"),
                            [(trace_id,) for trace_id in replaced])
            cur.executemany(self._q("DELETE FROM traces WHERE trace_id = ?"),
                            [(trace_id,) for trace_id in replaced])
        if items:
            cur.executemany(self._q(_INSERT_TRACE), [self._trace_row(item) for item in items])
            cur.executemany(self._q(_INSERT_NODE),
                            (row for item in items for row in self._node_rows(item)))

    def _trace_row(self, item: _Encoded) -> tuple[Any, ...]:
        tree, text = item.tree, self._text
        blamed = tree.labels.get("mistake_agent")
        success = None if tree.success is None else int(tree.success)
        return (tree.trace_id, text(tree.source), text(tree.task), success, text(tree.outcome),
                tree.pool_ref, text(str(blamed)) if blamed else None, len(tree.nodes),
                item.digest, tree.schema_version, item.head)

    def _node_rows(self, item: _Encoded) -> Iterator[tuple[Any, ...]]:
        text = self._text
        for seq, (node, doc) in enumerate(zip(item.tree.nodes, item.docs, strict=True)):
            yield (node.trace_id, seq, node.id, node.parent_id, node.kind, text(node.name),
                   text(node.agent), text(node.tool), node.status, _micros(node.start),
                   _micros(node.end), doc)

    def get_tree(self, trace_id: str) -> CallTree | None:
        with self._read() as cur:
            cur.execute(self._q("SELECT doc FROM traces WHERE trace_id = ?"), (trace_id,))
            head = cur.fetchone()
            if head is None:
                return None
            cur.execute(self._q("SELECT doc FROM nodes WHERE trace_id = ? ORDER BY seq"),
                        (trace_id,))
            docs = [row[0] for row in cur.fetchall()]
        return self._tree_from(trace_id, head[0], docs)

    def _tree_from(self, trace_id: str, head: str, docs: list[str]) -> CallTree:
        text = head[:-1] + ',"nodes":[' + ",".join(docs) + "]}"
        try:
            return CallTree.model_validate_json(text)
        except ValidationError as exc:
            raise StoreError(f"stored trace {trace_id!r} cannot be read: {exc}") from exc

    def trace_ids(self, *, source: str | None = None) -> list[str]:
        sql, args = "SELECT trace_id FROM traces", ()
        if source is not None:
            sql, args = sql + " WHERE source = ?", (source,)
        with self._read() as cur:
            cur.execute(self._q(sql + " ORDER BY trace_id"), args)
            return [row[0] for row in cur.fetchall()]

    def trace_digests(self) -> dict[str, str]:
        with self._read() as cur:
            cur.execute("SELECT trace_id, content_hash FROM traces")
            return dict(cur.fetchall())

    def pool_digests(self) -> dict[str, str]:
        with self._read() as cur:
            cur.execute("SELECT pool, content_hash FROM pools")
            return dict(cur.fetchall())

    def find_traces(
        self, *, task: str | None = None, agent: str | None = None, tool: str | None = None,
        limit: int = 100,
    ) -> list[str]:
        given = {k: v for k, v in {"task": task, "agent": agent, "tool": tool}.items() if v}
        where = " AND ".join(_FILTERS[k] for k in given) or "1 = 1"
        args = [_FILTER_VALUE[k](v) for k, v in given.items()]
        sql = f"SELECT t.trace_id FROM traces t WHERE {where} ORDER BY t.trace_id LIMIT ?"
        with self._read() as cur:
            cur.execute(self._q(sql), (*args, limit))
            return [row[0] for row in cur.fetchall()]

    def children(self, trace_id: str, node_id: str | None) -> list[CallNode]:
        parent = "parent_id IS NULL" if node_id is None else "parent_id = ?"
        args = (trace_id,) if node_id is None else (trace_id, node_id)
        with self._read() as cur:
            cur.execute(self._q(f"SELECT doc FROM nodes WHERE trace_id = ? AND {parent} "
                                "ORDER BY seq"), args)
            return [CallNode.model_validate_json(row[0]) for row in cur.fetchall()]

    def agent_outcomes(self) -> dict[str, OutcomeCounts]:
        counts: defaultdict[str, OutcomeCounts] = defaultdict(OutcomeCounts)
        with self._read() as cur:
            cur.execute(_AGENT_OUTCOMES)
            for agent, success, n in cur.fetchall():
                field = _OUTCOME_FIELD[success]
                setattr(counts[agent], field, getattr(counts[agent], field) + int(n))
            cur.execute("SELECT blamed_agent, COUNT(*) FROM traces "
                        "WHERE blamed_agent IS NOT NULL GROUP BY blamed_agent")
            for agent, n in cur.fetchall():
                counts[agent].blamed = int(n)
        return dict(sorted(counts.items()))

    def put_pool(self, pool: Pool) -> bool:
        docs = [entry.model_dump_json() for entry in pool.entries]
        digest = hashlib.sha256("\n".join(docs).encode()).hexdigest()
        with self._write() as cur:
            cur.execute(self._q("SELECT content_hash FROM pools WHERE pool = ?"), (pool.name,))
            row = cur.fetchone()
            if row is not None and row[0] == digest:
                return False
            cur.execute(self._q("DELETE FROM pool_entries WHERE pool = ?"), (pool.name,))
            cur.execute(self._q("DELETE FROM pools WHERE pool = ?"), (pool.name,))
            cur.execute(self._q("INSERT INTO pools (pool, content_hash, n_entries) "
                                "VALUES (?, ?, ?)"), (pool.name, digest, len(docs)))
            cur.executemany(self._q("INSERT INTO pool_entries (pool, seq, doc) VALUES (?, ?, ?)"),
                            [(pool.name, i, doc) for i, doc in enumerate(docs)])
        return True

    def get_pool(self, name: str) -> Pool | None:
        with self._read() as cur:
            cur.execute(self._q("SELECT 1 FROM pools WHERE pool = ?"), (name,))
            if cur.fetchone() is None:
                return None
            cur.execute(self._q("SELECT doc FROM pool_entries WHERE pool = ? ORDER BY seq"),
                        (name,))
            entries = [PoolEntry.model_validate_json(row[0]) for row in cur.fetchall()]
        return Pool(name=name, entries=entries)

    def pools(self) -> dict[str, int]:
        with self._read() as cur:
            cur.execute("SELECT pool, n_entries FROM pools ORDER BY pool")
            return {name: int(n) for name, n in cur.fetchall()}

    def stats(self) -> StoreStats:
        with self._read() as cur:
            values = {key: _scalar(cur, sql) for key, sql in _STAT_SCALARS.items()}
            cur.execute("SELECT COALESCE(source, ''), COUNT(*) FROM traces GROUP BY source")
            by_source = {str(k): int(n) for k, n in cur.fetchall()}
            cur.execute("SELECT kind, COUNT(*) FROM nodes GROUP BY kind")
            by_kind = {str(k): int(n) for k, n in cur.fetchall()}
        return StoreStats(**values, by_source=dict(sorted(by_source.items())),
                          by_kind=dict(sorted(by_kind.items())))


def _scalar(cur: Any, sql: str) -> int:
    cur.execute(sql)
    return int(cur.fetchone()[0])


_STAT_SCALARS = {
    "traces": "SELECT COUNT(*) FROM traces",
    "nodes": "SELECT COUNT(*) FROM nodes",
    "agents": "SELECT COUNT(DISTINCT agent) FROM nodes WHERE agent IS NOT NULL",
    "tools": "SELECT COUNT(DISTINCT tool) FROM nodes WHERE tool IS NOT NULL",
    "pools": "SELECT COUNT(*) FROM pools",
}

_INSERT_TRACE = (
    "INSERT INTO traces (trace_id, source, task, success, outcome, pool_ref, blamed_agent, "
    "n_nodes, content_hash, schema_version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NODE = (
    "INSERT INTO nodes (trace_id, seq, id, parent_id, kind, name, agent, tool, status, "
    "start_us, end_us, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_AGENT_OUTCOMES = (
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

