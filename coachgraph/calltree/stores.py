"""Open a store from a location string: a file path (SQLite) or a `postgresql://` DSN."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.postgres import PostgresCallTreeStore
from coachgraph.calltree.sqlite import SQLiteCallTreeStore

__all__ = ["STORE_SCHEMES", "open_store"]

STORE_SCHEMES: dict[str, Callable[[str, bool], CallTreeStore]] = {
    "postgresql": lambda location, read_only: PostgresCallTreeStore(location, read_only=read_only),
    "postgres": lambda location, read_only: PostgresCallTreeStore(location, read_only=read_only),
    "sqlite": lambda location, read_only: SQLiteCallTreeStore(
        location.removeprefix("sqlite://"), read_only=read_only),
}
"""URL scheme → factory `(location, read_only) -> store`; a location without a scheme is SQLite."""


def open_store(location: str | Path, *, read_only: bool = False) -> CallTreeStore:
    """The store at `location`: `postgresql://...` opens PostgreSQL, anything else a SQLite file.

    Args:
        location: a SQLite file path (or ``sqlite://PATH``) or a PostgreSQL DSN.
        read_only: the store must already exist and is only read: nothing is created (no file,
            folder, schema or table) and nothing is changed. Without it, a missing store is created.

    Raises:
        StoreError: there is no store at `location` (`read_only`), or what is there is not a
            coachgraph calling-tree store (not a database, or another program's tables).
    """
    text = str(location)
    scheme = text.split("://", 1)[0] if "://" in text else "sqlite"
    factory = STORE_SCHEMES.get(scheme, STORE_SCHEMES["sqlite"])
    return factory(text, read_only)
