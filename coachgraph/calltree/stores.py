"""Open a store from a location string: a file path (SQLite) or a `postgresql://` DSN."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.postgres import PostgresCallTreeStore
from coachgraph.calltree.sqlite import SQLiteCallTreeStore

__all__ = ["STORE_SCHEMES", "open_store"]

STORE_SCHEMES: dict[str, Callable[[str], CallTreeStore]] = {
    "postgresql": PostgresCallTreeStore,
    "postgres": PostgresCallTreeStore,
    "sqlite": lambda location: SQLiteCallTreeStore(location.removeprefix("sqlite://")),
}


def open_store(location: str | Path) -> CallTreeStore:
    """The store at `location`: `postgresql://...` opens PostgreSQL, anything else a SQLite file."""
    text = str(location)
    scheme = text.split("://", 1)[0] if "://" in text else "sqlite"
    factory = STORE_SCHEMES.get(scheme, STORE_SCHEMES["sqlite"])
    return factory(text)
