"""`coachgraph ingest` and the `coachgraph calltree` group: read, look at and export traces."""

from __future__ import annotations

import enum
import logging
import sqlite3
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from coachgraph.calltree.export import EXPORTERS
from coachgraph.calltree.ingest import (
    AUTO,
    FORMATS,
    IngestReport,
    Limits,
    StrictStop,
    format_size,
    ingest,
    parse_size,
)
from coachgraph.calltree.render import render_png, rich_tree
from coachgraph.calltree.stores import open_store
from coachgraph.cli._console import console, err_console, reports_errors
from coachgraph.errors import CoachgraphError, ConfigError, InputError

__all__ = ["app", "ingest_command", "register"]

logger = logging.getLogger(__name__)

app = typer.Typer(help="Look at, summarise and export stored calling trees.",
                  no_args_is_help=True)


FormatName = enum.Enum("FormatName", {name: name for name in (AUTO, *sorted(FORMATS))},
                       type=str)
"""The values `--format` takes (typer lists them and refuses others)."""
_LIMITS = Limits()


def _quarantine_file(store: str) -> Path:
    """Beside a SQLite store; in the working folder for a database server."""
    if "://" in store and not store.startswith("sqlite://"):
        return Path("coachgraph-ingest.quarantine.jsonl")
    return Path(f"{store.removeprefix('sqlite://')}.quarantine.jsonl")


def ingest_command(
    inputs: Annotated[list[Path], typer.Argument(help="Files or folders to read.")],
    format_name: Annotated[FormatName, typer.Option(
        "--format", help="The input format, or `auto` to detect each file's own.")],
    store: Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN.")],
    strict: Annotated[bool, typer.Option(
        "--strict", help="Stop at the first rejected record (exit code 3).")] = False,
    quarantine: Annotated[Path | None, typer.Option(
        "--quarantine", help="File the rejected records are appended to "
                             "(default: STORE.quarantine.jsonl beside a SQLite store).")] = None,
    max_depth: Annotated[int, typer.Option(
        "--max-depth", min=1, max=160, help="Most levels of arrays and objects in one record.",
    )] = _LIMITS.max_depth,
    max_record_size: Annotated[int, typer.Option(
        "--max-record-size", parser=parse_size, metavar="SIZE",
        show_default=format_size(_LIMITS.max_record_bytes),
        help="Largest record (a span, a run, a log file), e.g. 64M.")]
    = _LIMITS.max_record_bytes,
    max_held: Annotated[int, typer.Option(
        "--max-held", parser=parse_size, metavar="SIZE",
        show_default=format_size(_LIMITS.max_held_bytes),
        help="Most input held at once: a file read whole, or the records waiting for their "
             "traces (a LangSmith file's runs, the spans of all files of a span input), "
             "e.g. 512M.")]
    = _LIMITS.max_held_bytes,
) -> None:
    """Read traces into the calling-tree store; rejected records are quarantined.

    Exit codes: 0 traces were stored (records may have been quarantined: see the warning),
    1 nothing could be ingested, 2 a bad option, input path or store,
    3 --strict stopped at a rejected record (traces read before it are stored).
    """
    limits = Limits(max_depth=max_depth, max_record_bytes=max_record_size,
                    max_held_bytes=max_held)
    where = quarantine or _quarantine_file(store)
    try:
        with open_store(store) as opened:
            report = ingest(opened, format_name.value, inputs, strict=strict, limits=limits,
                            quarantine=where)
    except StrictStop as stop:
        _fail(f"{stop}; stopped by --strict after {stop.report.traces} traces (the record is "
              f"in {where})", 3)
    except CoachgraphError as exc:
        _fail(str(exc), 2)
    except OSError as exc:
        _fail(f"{exc.filename or store}: {exc.strerror or exc}", 2)
    except sqlite3.Error as exc:
        _fail(f"{store}: {exc}", 2)
    except KeyboardInterrupt:
        _fail("interrupted: the traces of the batches written before are stored; ingest the "
              "same inputs again to read the rest (ingest is idempotent)", 130)
    except Exception as exc:  # one line for the user; the traceback goes to the log (-v)
        logger.info("ingest failed", exc_info=True)
        _fail(f"{type(exc).__name__}: {exc} (while ingesting into {store}; -v shows where)", 2)
    _say(console, report.summary())
    if format_name.value == AUTO and report.files:
        _say(console, "formats: " + ", ".join(f"{n} ({c} files)" for n, c in report.files.items()))
    for line in report.unread:
        _say(err_console, f"warning: {line}")
    if not report.stored_anything:
        _fail(_nothing(report, inputs), 1)
    if report.rejected:
        first = report.quarantined[0]
        _say(err_console, f"warning: {report.rejected} records quarantined in {where}; the "
                          f"first: {first.source}: {first.reason}")


def _nothing(report: IngestReport, inputs: list[Path]) -> str:
    """The one line that says why nothing was ingested, and what to do."""
    named = ", ".join(str(p) for p in inputs[:3]) + (" ..." if len(inputs) > 3 else "")
    if report.quarantined:
        first = report.quarantined[0]
        return (f"nothing ingested from {named}: {first.source}: {first.reason} "
                f"({report.rejected} rejected, see {report.quarantine})")
    if report.unread:
        return f"nothing ingested from {named}: {report.unread[0]}"
    return f"nothing ingested from {named}: the input holds no traces"


def _say(where: Console, text: str) -> None:
    """Print one line as it is: no markup, no highlighting, no wrapping."""
    where.print(text, highlight=False, markup=False, soft_wrap=True)


def _fail(message: str, code: int) -> NoReturn:
    _say(err_console, f"error: {message}")
    raise typer.Exit(code=code)


@app.command("show")
@reports_errors
def show(
    trace_id: Annotated[str, typer.Argument(help="The trace to draw.")],
    store: Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN.")],
    png: Annotated[Path | None, typer.Option("--png", help="Also draw it into this PNG file.")] = None,
) -> None:
    """Draw one trace as a tree in the terminal (and optionally as a PNG)."""
    with open_store(store) as opened:
        tree = opened.get_tree(trace_id)
    if tree is None:
        raise InputError(f"no trace {trace_id!r} in the store", source=store)
    console.print(rich_tree(tree))
    if png is not None:
        console.print(f"wrote {render_png(tree, png)}", highlight=False)


@app.command("stats")
@reports_errors
def stats(
    store: Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN.")],
) -> None:
    """Summarise a store: traces, nodes, agents, tools, pools, per source and per kind."""
    with open_store(store) as opened:
        summary, pools = opened.stats(), opened.pools()
    table = Table(title=f"calling-tree store {store}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in ("traces", "nodes", "agents", "tools", "pools"):
        table.add_row(key, str(getattr(summary, key)))
    for source, n in summary.by_source.items():
        table.add_row(f"traces from {source or '(unknown)'}", str(n))
    for kind, n in summary.by_kind.items():
        table.add_row(f"{kind} nodes", str(n))
    for name, n in pools.items():
        table.add_row(f"pool {name}", str(n))
    console.print(table)


@app.command("export")
@reports_errors
def export(
    store: Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN.")],
    format_name: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(EXPORTERS)}.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (otlp-json) or folder (agent-rec).")],
    trace_ids: Annotated[list[str] | None, typer.Argument(help="Traces to export (default: all).")] = None,
) -> None:
    """Write stored traces as OTLP/JSON or in the agent-rec schema."""
    if format_name not in EXPORTERS:
        raise ConfigError(f"unknown export format {format_name!r}; known: {', '.join(EXPORTERS)}")
    with open_store(store) as opened:
        trees = list(opened.iter_trees(trace_ids or None))
        refs = sorted({t.pool_ref for t in trees if t.pool_ref})
        pools = [p for p in (opened.get_pool(r) for r in refs) if p is not None]
        count = EXPORTERS[format_name](trees, out, pools)
    console.print(f"exported {count} traces to {out}", highlight=False)


def register(app_: typer.Typer) -> None:
    """Add `ingest` and the `calltree` group to the main application."""
    app_.command("ingest")(ingest_command)
    app_.add_typer(app, name="calltree")
