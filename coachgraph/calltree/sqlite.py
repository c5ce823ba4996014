"""The embedded default store: one SQLite file in WAL mode (many readers, one writer)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from coachgraph.calltree._sql import SqlCallTreeStore
from coachgraph.errors import StoreError

__all__ = ["SQLiteCallTreeStore"]

logger = logging.getLogger(__name__)

_FILE_PRAGMAS = (
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
)
"""Settings a writer gives the file; a reader leaves the file as it is."""
_CONNECTION_PRAGMAS = ("PRAGMA cache_size=-65536", "PRAGMA temp_store=MEMORY")


class SQLiteCallTreeStore(SqlCallTreeStore):
    """Calling trees in one SQLite file; `":memory:"` gives a private in-memory store.

    WAL lets readers in other processes see the last committed traces while one writer works;
    a writer waits up to `timeout_s` for the write lock instead of failing at once.

    Args:
        path: the SQLite file.
        timeout_s: how long a writer waits for the write lock.
        read_only: open an existing store for reading only: nothing is created (no file, folder,
            table or setting), and every write raises `StoreError`.

    Raises:
        StoreError: with `read_only`, there is no file at `path`; in any mode, the file is not a
            database, is empty (`read_only`), or holds another program's tables.
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        try:
            self._conn = sqlite3.connect(self._uri(), timeout=timeout_s, isolation_level=None,
                                         check_same_thread=False, uri=True)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the calling-tree store ({exc})") from None
        self._lock = threading.RLock()
        try:
            self._setup()
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(f"{self.path}: not a coachgraph calling-tree store ({exc})") from None
        except StoreError:
            self._conn.close()
            raise

    def _uri(self) -> str:
        """The SQLite URI: `rwc` creates a missing file; a reader gets `rw` (or `ro` where the file is
        not writable), which fails on a missing file instead of creating one."""
        if self.path == ":memory:":
            return ":memory:"
        file = Path(self.path)
        if not self.read_only:
            file.parent.mkdir(parents=True, exist_ok=True)
            return f"{file.absolute().as_uri()}?mode=rwc"
        if not file.is_file():
            what = "is a folder" if file.is_dir() else "does not exist"
            raise StoreError(f"{self.path}: no calling-tree store here (the path {what}); check "
                             f"the path, or create one with `coachgraph ingest --format FORMAT --store {self.path} INPUT...`")
        mode = "rw" if os.access(file, os.W_OK) else "ro"
        return f"{file.absolute().as_uri()}?mode={mode}"

    def _setup(self) -> None:
        if not self.read_only:
            with self._transaction("BEGIN") as cur:
                self._foreign_check(cur, self.path)  # before any setting touches the file
        if self.read_only:
            # A reader sees the file as it is; `query_only` refuses any write on this connection.
            pragmas: tuple[str, ...] = (*_CONNECTION_PRAGMAS, "PRAGMA query_only=1")
        else:
            pragmas = (*_FILE_PRAGMAS, *_CONNECTION_PRAGMAS)
        for pragma in pragmas:
            if pragma == "PRAGMA journal_mode=WAL" and self._journal_mode() == "wal":
                continue  # switching needs a lock a busy writer holds; a WAL file needs no switch
            self._conn.execute(pragma)
        with self._transaction("BEGIN" if self.read_only else "BEGIN IMMEDIATE") as cur:
            self._open_schema(cur, self.path, create=not self.read_only)
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
        if self.read_only:
            raise StoreError(f"{self.path}: the calling-tree store was opened read-only")
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Cursor]:
        return self._transaction("BEGIN")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
