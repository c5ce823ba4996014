"""Stores are opened on purpose: a reader never creates or changes anything, and a file or schema
that is not a coachgraph store is refused with one line naming it (SQLite always, PostgreSQL when
configured)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from coachgraph.calltree.postgres import PostgresCallTreeStore
from coachgraph.calltree.stores import open_store
from coachgraph.errors import StoreError
from tests.calltree._trees import sample_tree

PG_DSN = os.environ.get("COACHGRAPH_PG_DSN")
needs_pg = pytest.mark.skipif(not PG_DSN, reason="COACHGRAPH_PG_DSN is not set (run .ci/postgres.sh)")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(error: pytest.ExceptionInfo[StoreError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def test_reader_of_a_missing_path_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "deeper" / "traces.sqlite"
    with pytest.raises(StoreError) as error:
        open_store(missing, read_only=True)
    assert _one_line(error).startswith(f"{missing}: no calling-tree store here")
    assert not (tmp_path / "typo").exists()
    with pytest.raises(StoreError, match="is a folder"):
        open_store(tmp_path, read_only=True)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("just some notes\n" * 200)
    before = _digest(path)
    for read_only in (True, False):
        with pytest.raises(StoreError) as error:
            open_store(path, read_only=read_only)
        assert _one_line(error) == f"{path}: not a coachgraph calling-tree store (file is not a database)"
    assert _digest(path) == before


def test_another_programs_database_is_never_touched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.close()
    before = _digest(path)
    for read_only in (True, False):
        with pytest.raises(StoreError, match=r"holds other tables: users\); give another store"):
            open_store(path, read_only=read_only)
    assert _digest(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["users"]
    conn.close()


def test_an_empty_file_is_a_new_store_only_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(StoreError, match="it is empty"):
        open_store(path, read_only=True)
    with open_store(path) as store:
        assert store.put_tree(sample_tree()) is True


def test_a_reader_sees_the_store_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "traces.sqlite"
    with open_store(path) as store:
        store.put_trees([sample_tree("a"), sample_tree("b")])
    before, files = _digest(path), sorted(p.name for p in tmp_path.iterdir())
    with open_store(path, read_only=True) as reader:
        assert reader.trace_ids() == ["a", "b"]
        with pytest.raises(StoreError, match="opened read-only"):
            reader.put_tree(sample_tree("c"))
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    path.chmod(0o444)  # a store the user may only read opens too
    try:
        with open_store(path, read_only=True) as reader:
            assert reader.stats().traces == 2
    finally:
        path.chmod(0o644)


@needs_pg
def test_postgres_reader_creates_no_schema() -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pytest.raises(StoreError, match="holds no calling-tree store") as error:
        PostgresCallTreeStore(PG_DSN or "", schema=schema, read_only=True)
    assert "coachgraph:coachgraph@" not in str(error.value)  # the password is not echoed
    probe = PostgresCallTreeStore(PG_DSN or "", schema=f"{schema}_probe")
    try:
        rows = probe._conn.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                                   (schema,)).fetchall()
        assert rows == []
    finally:
        probe.drop()
        probe.close()


@needs_pg
def test_postgres_foreign_schema_refused_and_reader_cannot_write() -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    store = PostgresCallTreeStore(PG_DSN or "", schema=schema)
    try:
        store.put_tree(sample_tree("a"))
        with PostgresCallTreeStore(PG_DSN or "", schema=schema, read_only=True) as reader:
            assert reader.trace_ids() == ["a"]
            with pytest.raises(StoreError, match="opened read-only"):
                reader.put_tree(sample_tree("b"))
        store._conn.execute(f"CREATE SCHEMA {schema}_other")
        store._conn.execute(f"CREATE TABLE {schema}_other.invoices (id int)")
        for read_only in (True, False):
            with pytest.raises(StoreError, match="holds other tables: invoices"):
                PostgresCallTreeStore(PG_DSN or "", schema=f"{schema}_other", read_only=read_only)
    finally:
        store._conn.execute(f"DROP SCHEMA IF EXISTS {schema}_other CASCADE")
        store.drop()
        store.close()
