"""The shared store: calling trees in PostgreSQL (psycopg 3), for teams on one database."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from coachgraph.calltree._sql import SqlCallTreeStore
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
        raise StoreError(f"cannot connect to PostgreSQL at {_redacted(dsn)}: {exc}") from None


def _redacted(dsn: str) -> str:
    """The DSN without its password, for messages.

    >>> _redacted("postgresql://bob:hunter2@db:5432/traces")
    'postgresql://bob:***@db:5432/traces'
    >>> _redacted("host=db password=hunter2 dbname=traces")
    'host=db password=*** dbname=traces'
    """
    return _PASSWORD.sub(lambda m: f"{m.group(1) or m.group(2)}***", dsn)


_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*(?=@)|(password\s*=\s*)\S+")


class PostgresCallTreeStore(SqlCallTreeStore):
    """Calling trees in PostgreSQL, in the tables of `schema` (created when missing, unless
    `read_only`).

    Transactions run at REPEATABLE READ, so a reader sees a whole trace or none of it. A
    `read_only` store creates nothing (no schema, no table) and its session refuses writes.

    Raises:
        StoreError: the server cannot be reached; with `read_only`, there is no store in `schema`;
            in any mode, `schema` holds another program's tables.
    """

    placeholder = "%s"
    _TABLES_SQL = ("SELECT table_name FROM information_schema.tables "
                   "WHERE table_schema = current_schema()")

    def __init__(self, dsn: str, *, schema: str = "coachgraph", read_only: bool = False) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(f"invalid PostgreSQL schema name {schema!r}")
        self.schema = schema
        self.read_only = read_only
        self.where = f"schema {schema} of {_redacted(dsn)}"
        self._conn = _connect(dsn)
        from psycopg import IsolationLevel

        self._conn.isolation_level = IsolationLevel.REPEATABLE_READ
        self._lock = threading.RLock()
        try:
            self._setup()
        except StoreError:
            self._conn.close()
            raise

    def _setup(self) -> None:
        if self.read_only:
            self._conn.execute("SET default_transaction_read_only = on")
        else:
            with self._lock, self._conn.transaction():
                self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        self._conn.execute(f"SET search_path TO {self.schema}")
        with self._transaction() as cur:
            if not self.read_only:
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            self._open_schema(cur, self.where, create=not self.read_only)
        logger.debug("opened PostgreSQL calling-tree store in schema %s", self.schema)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cur:
            yield cur

    def _write(self) -> AbstractContextManager[Any]:
        if self.read_only:
            raise StoreError(f"{self.where}: the calling-tree store was opened read-only")
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
