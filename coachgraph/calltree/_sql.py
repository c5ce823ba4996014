"""The SQL shared by the SQLite and PostgreSQL stores: one row per trace, one per node.

Each node row keeps the indexed columns (kind, name, agent, tool, parent) beside the node's full
JSON, so a trace is rebuilt with one range scan and one JSON parse, and queries never parse JSON.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import ValidationError

from coachgraph.calltree._sql_text import (
    AGENT_OUTCOMES,
    INSERT_NODE,
    INSERT_TRACE,
    OUTCOME_FIELD,
    STAT_SCALARS,
    ddl_statements,
    where,
)
from coachgraph.calltree.base import (
    CallTreeStore,
    OutcomeCounts,
    StoreStats,
    TraceQuery,
    TraceSummary,
)
from coachgraph.calltree.schema import SCHEMA_VERSION, CallNode, CallTree, Pool, PoolEntry
from coachgraph.errors import StoreError

__all__ = ["SqlCallTreeStore", "ddl_statements"]

def _micros(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1_000_000)


_IDENTIFYING_TABLES = frozenset({"meta", "traces", "nodes"})
"""Tables that every coachgraph store has had since its first schema version."""

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
    _TABLES_SQL: ClassVar[str] = "SELECT name FROM sqlite_master WHERE type = 'table'"
    """The names of the tables where the store's tables live (overridden per backend)."""

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

    def _open_schema(self, cur: Any, where: str, *, create: bool) -> None:
        """Check that the database holds a coachgraph store, creating one only in an empty database
        and only when `create`, so that no other program's tables are ever touched.

        Raises:
            StoreError: the database is empty (and not `create`), holds another program's tables,
                or a store newer than this version.
        """
        tables = self._foreign_check(cur, where)
        if not tables and not create:
            raise StoreError(f"{where}: holds no calling-tree store (it is empty); ingest "
                             "traces into it first")
        if create:
            for stmt in ddl_statements():
                cur.execute(stmt)
        self._check_version(cur, where, create=create)

    def _foreign_check(self, cur: Any, where: str) -> set[str]:
        """The database's table names; raises `StoreError` when they are another program's."""
        tables = self._table_names(cur)
        if tables and not _IDENTIFYING_TABLES <= tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(f"{where}: not a coachgraph calling-tree store (it holds other "
                             f"tables: {shown}); give another store location")
        return tables

    def _table_names(self, cur: Any) -> set[str]:
        cur.execute(self._TABLES_SQL)
        return {str(row[0]) for row in cur.fetchall()}

    def _check_version(self, cur: Any, where: str, *, create: bool) -> None:
        cur.execute(self._q("SELECT value FROM meta WHERE key = ?"), ("schema_version",))
        row = cur.fetchone()
        if row is None and not create:
            raise StoreError(f"{where}: the calling-tree store has no schema_version")
        if row is None:
            cur.execute(self._q("INSERT INTO meta (key, value) VALUES (?, ?)"),
                        ("schema_version", str(SCHEMA_VERSION)))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"{where}: store schema_version {row[0]} is newer than "
                             f"{SCHEMA_VERSION}; upgrade coachgraph to read it")

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

    def append_nodes(self, head: CallTree, nodes: Sequence[CallNode], replace: Collection[str] = ()) -> None:
        """Append in one transaction: updated nodes, and the subtrees of replaced ones, are deleted,
        new rows continue the trace's sequence, and the content hash chains the new documents onto
        the stored one."""
        encoded = _Encoded.of(head.model_copy(update={"nodes": list(nodes)}))
        with self._write() as cur:
            cur.execute(self._q("SELECT content_hash FROM traces WHERE trace_id = ?"), (head.trace_id,))
            row = cur.fetchone()
            cur.execute(self._q("SELECT id, parent_id, seq FROM nodes WHERE trace_id = ?"), (head.trace_id,))
            stored = {node_id: (parent, seq) for node_id, parent, seq in cur.fetchall()}
            gone = _subtrees(stored, set(replace)) | ({n.id for n in nodes} & stored.keys())
            _check_appended(head.trace_id, nodes, set(stored) - gone)
            cur.executemany(self._q("DELETE FROM nodes WHERE trace_id = ? AND seq = ?"),
                            [(head.trace_id, stored[node_id][1]) for node_id in gone])
            cur.execute(self._q("DELETE FROM traces WHERE trace_id = ?"), (head.trace_id,))
            total = len(stored) - len(gone) + len(nodes)
            digest = hashlib.sha256(((row[0] if row else "") + encoded.digest).encode()).hexdigest()
            cur.execute(self._q(INSERT_TRACE), self._trace_row(encoded, n_nodes=total, digest=digest))
            first = max((seq for _, seq in stored.values()), default=-1) + 1
            cur.executemany(self._q(INSERT_NODE), self._node_rows(encoded, first))

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
            cur.executemany(self._q(INSERT_TRACE), [self._trace_row(item) for item in items])
            cur.executemany(self._q(INSERT_NODE),
                            (row for item in items for row in self._node_rows(item)))

    def _trace_row(self, item: _Encoded, n_nodes: int | None = None, digest: str | None = None) -> tuple[Any, ...]:
        tree, text = item.tree, self._text
        blamed = tree.labels.get("mistake_agent")
        success = None if tree.success is None else int(tree.success)
        return (tree.trace_id, text(tree.source), text(tree.task), success, text(tree.outcome),
                tree.pool_ref, text(str(blamed)) if blamed else None,
                len(tree.nodes) if n_nodes is None else n_nodes, digest or item.digest,
                tree.schema_version, item.head)

    def _node_rows(self, item: _Encoded, first: int = 0) -> Iterator[tuple[Any, ...]]:
        text = self._text
        for seq, (node, doc) in enumerate(zip(item.tree.nodes, item.docs, strict=True), start=first):
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
        query = TraceQuery(task=task, agent=agent, tool=tool)
        return [s.trace_id for s in self.trace_summaries(query, limit=limit)]

    def trace_summaries(self, query: TraceQuery, *, limit: int = 100, offset: int = 0) -> list[TraceSummary]:
        clause, args = where(query)
        sql = (f"SELECT t.trace_id, t.source, t.task, t.n_nodes, t.success, t.outcome FROM traces t "
               f"WHERE {clause} ORDER BY t.trace_id LIMIT ? OFFSET ?")
        with self._read() as cur:
            cur.execute(self._q(sql), (*args, limit, offset))
            rows = cur.fetchall()
        return [TraceSummary(trace_id=row[0], source=row[1], task=row[2], nodes=int(row[3]),
                             outcome=OUTCOME_FIELD[row[4]], outcome_word=row[5]) for row in rows]

    def count_traces(self, query: TraceQuery) -> int:
        clause, args = where(query)
        with self._read() as cur:
            cur.execute(self._q(f"SELECT COUNT(*) FROM traces t WHERE {clause}"), args)
            return int(cur.fetchone()[0])

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
            cur.execute(AGENT_OUTCOMES)
            for agent, success, n in cur.fetchall():
                field = OUTCOME_FIELD[success]
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
            values = {key: _scalar(cur, sql) for key, sql in STAT_SCALARS.items()}
            cur.execute("SELECT COALESCE(source, ''), COUNT(*) FROM traces GROUP BY source")
            by_source = {str(k): int(n) for k, n in cur.fetchall()}
            cur.execute("SELECT kind, COUNT(*) FROM nodes GROUP BY kind")
            by_kind = {str(k): int(n) for k, n in cur.fetchall()}
        return StoreStats(**values, by_source=dict(sorted(by_source.items())),
                          by_kind=dict(sorted(by_kind.items())))


def _subtrees(stored: dict[str, tuple[str | None, int]], roots: set[str]) -> set[str]:
    """The stored nodes among `roots` and every stored node under them.

    >>> sorted(_subtrees({"a": (None, 0), "b": ("a", 1), "c": ("b", 2), "d": (None, 3)}, {"b"}))
    ['b', 'c']
    """
    children: defaultdict[str, list[str]] = defaultdict(list)
    for node_id, (parent, _) in stored.items():
        if parent is not None:
            children[parent].append(node_id)
    found, todo = set(), [r for r in roots if r in stored]
    while todo:
        node_id = todo.pop()
        if node_id not in found:
            found.add(node_id)
            todo.extend(children[node_id])
    return found


def _check_appended(trace_id: str, nodes: Sequence[CallNode], stored: set[str]) -> None:
    """Appended nodes belong to the trace, have unique ids and parents stored or appended with them."""
    strays = [n.id for n in nodes if n.trace_id != trace_id]
    if strays:
        raise StoreError(f"node {strays[0]!r} does not belong to trace {trace_id!r}")
    ids = {n.id for n in nodes}
    if len(ids) != len(nodes):
        raise StoreError("appended nodes repeat an id")
    known = stored | ids
    for node in nodes:
        if node.parent_id is not None and node.parent_id not in known:
            raise StoreError(f"node {node.id!r} of trace {node.trace_id!r} has unknown parent {node.parent_id!r}")


def _scalar(cur: Any, sql: str) -> int:
    cur.execute(sql)
    return int(cur.fetchone()[0])


