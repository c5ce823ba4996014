"""The embedded default store: one SQLite file in WAL mode (many readers, one writer)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from coachgraph.calltree._sql import SqlCallTreeStore, ddl_statements
from coachgraph.errors import StoreError

__all__ = ["SQLiteCallTreeStore"]

logger = logging.getLogger(__name__)

_PRAGMAS = (
    # Larger pages hold a node's JSON with fewer overflow pages (faster writes and range
    # scans); SQLite applies this only when it creates the file, so existing stores keep theirs.
    "PRAGMA page_size=16384",
    "PRAGMA journal_mode=WAL",
    # In WAL mode NORMAL never corrupts the file; a power cut may only drop the last commits,
    # which a re-ingest restores (ingest is idempotent).
    "PRAGMA synchronous=NORMAL",
    # Checkpoint (and fsync) every 4096 pages rather than 1000: bulk ingest waits on fewer
    # fsyncs, while the WAL stays bounded (64 MiB at 16 KiB pages) for readers.
    "PRAGMA wal_autocheckpoint=4096",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)


class SQLiteCallTreeStore(SqlCallTreeStore):
    """Calling trees in one SQLite file; `":memory:"` gives a private in-memory store.

    WAL lets readers in other processes see the last committed traces while one writer works;
    a writer waits up to `timeout_s` for the write lock instead of failing at once.
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open calling-tree store {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._setup()

    def _setup(self) -> None:
        for pragma in _PRAGMAS:
            if pragma == "PRAGMA journal_mode=WAL" and self._journal_mode() == "wal":
                continue  # switching needs a lock a busy writer holds; a WAL file needs no switch
            self._conn.execute(pragma)
        with self._write() as cur:
            for stmt in ddl_statements():
                cur.execute(stmt)
            self._check_version(cur)
        logger.debug("opened calling-tree store %s", self.path)

    def _journal_mode(self) -> str:
        return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(begin)
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _write(self) -> AbstractContextManager[sqlite3.Cursor]:
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Cursor]:
        return self._transaction("BEGIN")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
