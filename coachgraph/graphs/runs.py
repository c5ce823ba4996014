"""What every graph run needs: a checkpointer and a store (SQLite or PostgreSQL), a calling-tree
tracer that writes as the run goes, a driver that streams the graph, and the resume point.

A location is a file path (SQLite, the embedded default) or a ``postgresql://`` DSN, for the
checkpointer, LangGraph's store and the calling-tree store alike.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from coachgraph.calltree.stores import open_store
from coachgraph.calltree.tracer import CallTreeTracer
from coachgraph.errors import MissingDependencyError

__all__ = ["Progress", "drive", "graph_store", "is_postgres", "open_checkpointer", "traced"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, Mapping[str, Any]], None]
"""Called with (node name, its state update) after every node; the CLI draws bars from it."""

Stop = Callable[[str, Mapping[str, Any]], bool]
"""Called like `Progress`; True stops the run there, leaving it resumable (as a kill would)."""


def is_postgres(location: str | Path) -> bool:
    """Whether `location` is a PostgreSQL DSN.

    >>> is_postgres("postgresql://u@h/db"), is_postgres("runs/x/checkpoints.sqlite")
    (True, False)
    """
    return str(location).startswith(("postgresql://", "postgres://"))


def _postgres(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as err:
        raise MissingDependencyError(
            "PostgreSQL checkpoints and stores need the postgres extra: pip install 'coachgraph[postgres]'") from err


@contextmanager
def open_checkpointer(location: str | Path) -> Iterator[BaseCheckpointSaver]:
    """LangGraph's saver at `location`: SQLite for a path, PostgreSQL for a DSN (tables set up)."""
    if is_postgres(location):
        with _postgres("langgraph.checkpoint.postgres").PostgresSaver.from_conn_string(str(location)) as saver:
            saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(location, check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


@contextmanager
def graph_store(location: str | Path) -> Iterator[BaseStore]:
    """LangGraph's key-value store at `location` (state that outlives a thread, e.g. a learner's)."""
    if is_postgres(location):
        with _postgres("langgraph.store.postgres").PostgresStore.from_conn_string(str(location)) as store:
            store.setup()
            yield store
        return
    from langgraph.store.sqlite import SqliteStore

    conn = sqlite3.connect(location, check_same_thread=False, isolation_level=None)
    try:
        store = SqliteStore(conn)
        store.setup()
        yield store
    finally:
        conn.close()


@contextmanager
def traced(location: str | Path, *, session_id: str, trace_id: str | None = None, task: str | None = None,
           position: Callable[[Any], int | str | None] | None = None) -> Iterator[CallTreeTracer]:
    """A tracer writing to the calling-tree store at `location`; with `trace_id`, every run of the
    graph goes into that one trace, appended as it grows (see `CallTreeTracer`)."""
    store = open_store(location)
    try:
        yield CallTreeTracer(store, session_id=session_id, trace_id=trace_id, task=task, position=position)
    finally:
        store.close()


def drive(graph: CompiledStateGraph[Any, Any, Any, Any], inputs: Any, config: RunnableConfig, context: Any, *,
          tracer: CallTreeTracer | None = None, progress: Progress | None = None,
          stop: Stop | None = None) -> bool:
    """Stream `graph` until it ends or `stop` says so; returns whether it stopped early.

    Checkpoints are saved before each next step begins (durability ``sync``), and after each
    node's update the tracer writes the calls of every node before it: a run killed at any point
    has in its trace the calls of its saved steps, and none that a resume will make again.
    """
    try:
        for update in graph.stream(inputs, config, context=context, stream_mode="updates", durability="sync"):
            for node, values in update.items():
                if tracer is not None:
                    tracer.flush(hold_last=True)
                if progress is not None and isinstance(values, Mapping):
                    progress(node, values)
                if stop is not None and isinstance(values, Mapping) and stop(node, values):
                    logger.info("stopping after node %s as asked", node)
                    return True
        return False
    finally:
        if tracer is not None:
            tracer.flush()
