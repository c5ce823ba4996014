"""The shared store: calling trees in PostgreSQL (psycopg 3), for teams on one database."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from coachgraph.calltree._sql import SqlCallTreeStore, ddl_statements
from coachgraph.errors import MissingDependencyError, StoreError

__all__ = ["PostgresCallTreeStore"]

logger = logging.getLogger(__name__)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _connect(dsn: str) -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise MissingDependencyError(
            "the PostgreSQL store needs psycopg: pip install 'psycopg[binary]'") from exc
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc


class PostgresCallTreeStore(SqlCallTreeStore):
    """Calling trees in PostgreSQL, in the tables of `schema` (created when missing).

    Transactions run at REPEATABLE READ, so a reader sees a whole trace or none of it.
    """

    placeholder = "%s"

    def __init__(self, dsn: str, *, schema: str = "coachgraph") -> None:
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(f"invalid PostgreSQL schema name {schema!r}")
        self.schema = schema
        self._conn = _connect(dsn)
        from psycopg import IsolationLevel

        self._conn.isolation_level = IsolationLevel.REPEATABLE_READ
        self._lock = threading.RLock()
        self._setup()

    def _setup(self) -> None:
        with self._lock, self._conn.transaction():
            self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        self._conn.execute(f"SET search_path TO {self.schema}")
        with self._write() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            for stmt in ddl_statements():
                cur.execute(stmt)
            self._check_version(cur)
        logger.debug("opened PostgreSQL calling-tree store in schema %s", self.schema)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cur:
            yield cur

    def _write(self) -> AbstractContextManager[Any]:
        return self._transaction()

    def _read(self) -> AbstractContextManager[Any]:
        return self._transaction()

    def _text(self, value: str | None) -> str | None:
        """PostgreSQL text cannot hold NUL; the node's JSON document keeps the exact value."""
        return value.replace("\x00", "") if value else value

    def drop(self) -> None:
        """Drop this store's schema and everything in it (used to clean up test databases)."""
        with self._lock, self._conn.transaction():
            self._conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
