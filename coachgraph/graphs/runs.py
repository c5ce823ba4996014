"""What every graph run needs: a run folder opened new or resumed (`open_run`), a checkpointer and
a store (SQLite or PostgreSQL), a calling-tree tracer that writes as the run goes, a driver that
streams the graph, the resume point, and pruning of old checkpoints.

A location is a file path (SQLite, the embedded default) or a ``postgresql://`` DSN, for the
checkpointer, LangGraph's store and the calling-tree store alike.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from pydantic import BaseModel

from coachgraph.calltree.stores import open_store
from coachgraph.calltree.tracer import CallTreeTracer
from coachgraph.errors import ConfigError, InputError, MissingDependencyError

__all__ = ["GRAPH_TABLES", "Progress", "RunFile", "check_graph_db", "checkpoint_count", "config_differences", "drive",
           "graph_store", "is_postgres", "open_checkpointer", "open_run", "plain_run_fields", "prune_checkpoints", "saved_run",
           "thread_ids", "traced"]

GRAPH_TABLES = frozenset({"checkpoints", "writes", "store", "store_migrations"})
"""The tables LangGraph's SQLite checkpointer and store keep in a file they share."""

logger = logging.getLogger(__name__)

Progress = Callable[[str, Mapping[str, Any]], None]
"""Called with (node name, its state update) after every node; the CLI draws bars from it."""

Stop = Callable[[str, Mapping[str, Any]], bool]
"""Called like `Progress`; True stops the run there, leaving it resumable (as a kill would)."""

ConfigT = TypeVar("ConfigT", bound=BaseModel)
ContextT = TypeVar("ContextT")


@dataclass(frozen=True, slots=True)
class RunFile(Generic[ConfigT, ContextT]):
    """How one graph keeps its runs: its ``run.json`` reader and writer, how a run's context is
    built from its config and folder, and how a new run is named."""

    read: Callable[[Path], tuple[ConfigT, str]]
    write: Callable[[Path, str, ConfigT], None]
    context: Callable[[ConfigT, Path], ContextT]
    run_id: Callable[[ConfigT], str]


SERVER_RUN_DIR = Path("runs/server")
"""Run folder of a context built from plain settings that name none."""


def plain_run_fields(data: Any, config_type: type[ConfigT], fields: Callable[[ConfigT, Path], dict[str, Any]]) -> Any:
    """A context's fields from plain run settings, ``{"run": {...}, "run_dir": ...}`` (how
    LangGraph's server passes a run's context), else `data` as given."""
    if isinstance(data, dict) and "run" in data:
        return fields(config_type.model_validate(data["run"]), Path(data.get("run_dir") or SERVER_RUN_DIR))
    return data


def saved_run(run_dir: str | Path, run_file: RunFile[ConfigT, Any]) -> tuple[ConfigT, str]:
    """The config and run id saved in `run_dir`."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise InputError(f"{path}: not a run folder (no run.json)", source=str(path))
    return run_file.read(path)


def open_run(config: ConfigT | None, run_dir: Path, resume: bool,
             run_file: RunFile[ConfigT, ContextT]) -> tuple[ConfigT, str, ContextT]:
    """The config, run id and context of the run in `run_dir`: resumed, or new.

    A resumed run keeps its saved settings; a given config that differs is refused, naming each
    differing setting. A new run refuses a folder that already holds one, builds its context
    (which checks every setting) and only then writes ``run.json``, so a run that cannot start
    leaves no folder behind.
    """
    if resume:
        saved, run_id = saved_run(run_dir, run_file)
        differences = config_differences(saved, config) if config is not None else []
        if differences:
            raise ConfigError(f"{run_dir}: cannot resume with other settings than the run's; differing: "
                              + "; ".join(differences))
        return saved, run_id, run_file.context(saved, run_dir)
    if config is None:
        raise InputError("a new run needs a config", source="config")
    if (run_dir / "run.json").exists():
        raise InputError(f"{run_dir}: already holds a run; resume it or pick another folder", source=str(run_dir))
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        ctx = run_file.context(config, run_dir)
        run_id = run_file.run_id(config)
        run_file.write(run_dir / "run.json", run_id, config)
    except BaseException:
        if created:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return config, run_id, ctx


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


def check_graph_db(location: str | Path, *, create: bool, what: str) -> None:
    """Refuse a SQLite `location` that is not a file of LangGraph's checkpoints and store, before
    anything opens it (opening creates tables): another kind of file, another program's tables,
    or, unless `create`, nothing at all. A DSN is left to the server.

    Raises:
        InputError: naming the path and what is wrong with it.
    """
    if is_postgres(location) or str(location) == ":memory:":
        return
    path = Path(location)
    if not path.exists():
        if create:
            return
        raise InputError(f"no {what} here (the path does not exist)", source=str(path))
    if not path.is_file():
        raise InputError(f"not a {what} (the path is a folder)", source=str(path))
    mode = "rw" if os.access(path, os.W_OK) else "ro"  # `rw` (no create) closes without leaving -wal/-shm files
    try:
        with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode={mode}", uri=True)) as conn:
            tables = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise InputError(f"not a {what} ({exc})", source=str(path)) from None
    if tables - GRAPH_TABLES:
        raise InputError(f"not a {what} (it holds other tables: {', '.join(sorted(tables - GRAPH_TABLES)[:5])})",
                         source=str(path))
    if not tables and not create:
        raise InputError(f"no {what} in it (the database is empty)", source=str(path))


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


def thread_ids(saver: BaseCheckpointSaver) -> list[str]:
    """Every thread that has a checkpoint in `saver`."""
    return sorted({c.config["configurable"]["thread_id"] for c in saver.list(None)})


def checkpoint_count(saver: BaseCheckpointSaver, thread_id: str) -> int:
    """Checkpoints kept of one thread."""
    return sum(1 for _ in saver.list({"configurable": {"thread_id": thread_id}}))


def _prune_sqlite(saver: Any, thread_id: str) -> None:
    """Keep the latest root checkpoint of a SQLite thread (and its pending writes)."""
    with saver.cursor() as cur:
        cur.execute("SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
                    "ORDER BY checkpoint_id DESC LIMIT 1", (thread_id,))
        row = cur.fetchone()
        if row is None:
            return
        cur.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id != ?", (thread_id, row[0]))
        cur.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_id != ?", (thread_id, row[0]))


def prune_checkpoints(saver: BaseCheckpointSaver, threads: list[str]) -> dict[str, tuple[int, int]]:
    """Drop every checkpoint of `threads` but the latest (what a resume needs); returns, per
    thread, the checkpoints kept before and after.

    PostgreSQL uses the saver's own ``prune(strategy="keep_latest")``; SQLite, whose saver has
    none, deletes the older rows and their writes in one transaction.

    Raises:
        ConfigError: the saver can neither prune nor is a SQLite saver.
    """
    before = {t: checkpoint_count(saver, t) for t in threads}
    try:
        saver.prune(threads, strategy="keep_latest")
    except NotImplementedError:
        from langgraph.checkpoint.sqlite import SqliteSaver

        if not isinstance(saver, SqliteSaver):
            raise ConfigError(f"{type(saver).__name__} cannot prune checkpoints") from None
        for thread in threads:
            _prune_sqlite(saver, thread)
    return {t: (before[t], checkpoint_count(saver, t)) for t in threads}


def config_differences(saved: BaseModel, given: BaseModel, prefix: str = "") -> list[str]:
    """Dotted names of the settings whose values differ, with both values.

    >>> from coachgraph.graphs.curriculum import AgentConfig, RunConfig
    >>> config_differences(RunConfig(steps=3), RunConfig(steps=4, agents=AgentConfig(samples=2)))
    ['steps: saved 3, given 4', 'agents.samples: saved 4, given 2']
    """
    found = []
    for name in type(saved).model_fields:
        a, b = getattr(saved, name), getattr(given, name)
        if isinstance(a, BaseModel) and isinstance(b, BaseModel):
            found += config_differences(a, b, f"{prefix}{name}.")
        elif a != b:
            found.append(f"{prefix}{name}: saved {a!r}, given {b!r}")
    return found
