"""`coachgraph ingest` and the `coachgraph calltree` group: read, list, look at and export traces.

Every command but `ingest` opens its store read-only: a mistyped path is refused, never created.
"""

from __future__ import annotations

import enum
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from coachgraph.calltree.base import TraceQuery, TraceSummary
from coachgraph.calltree.export import EXPORTERS
from coachgraph.calltree.html_view import write_html
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
from coachgraph.calltree.render import ellipsis, render_png, rich_tree
from coachgraph.calltree.stores import open_store
from coachgraph.cli._console import console, err_console, progress, reports_errors, working
from coachgraph.errors import CoachgraphError, InputError

__all__ = ["app", "ingest_command", "register"]

logger = logging.getLogger(__name__)

app = typer.Typer(help="List, look at, summarise and export stored calling trees.",
                  no_args_is_help=True)

StoreOpt = Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN (read only).")]


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


@app.command("list")
@reports_errors
def list_command(
    store: StoreOpt,
    task: Annotated[str | None, typer.Option("--task", help="Only tasks containing this text.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Only traces calling this agent.")] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="Only traces calling this tool.")] = None,
    outcome: Annotated[Literal["success", "failure", "unknown"] | None, typer.Option(
        "--outcome", help="Only traces that ended so.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only traces of this ingest format.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="Most traces shown.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
) -> None:
    """List trace ids with task, size and outcome (sorted by id); filters combine."""
    query = TraceQuery(task=task, agent=agent, tool=tool, outcome=outcome, source=source)
    with open_store(store, read_only=True) as opened:
        rows, total = opened.trace_summaries(query, limit=limit, offset=offset), opened.count_traces(query)
    if as_json:
        for row in rows:
            console.print(row.model_dump_json(), crop=False)
        return
    if not rows:
        console.print(f"no traces match (of {total} matching, skipped {offset})" if total else "no traces match")
        return
    console.print(_summary_table(rows, total, offset))


def _summary_table(rows: list[TraceSummary], total: int, offset: int) -> Table:
    """Ids whole on one line each (they are for copying), outcome, size; tasks cut to fit."""
    more = "; --offset shows more" if offset + len(rows) < total else ""
    id_width = max(len(r.trace_id) for r in rows)
    task_width = max(16, console.width - id_width - 30)
    table = Table(box=box.SIMPLE_HEAD, caption=f"traces {offset + 1}-{offset + len(rows)} of {total}{more}",
                  caption_justify="left")
    for name in ("trace id", "outcome", "nodes", "task"):
        table.add_column(name, no_wrap=True, justify="right" if name == "nodes" else "left")
    styles = {"success": "green", "failure": "red", "unknown": "dim"}
    for row in rows:
        table.add_row(row.trace_id, Text(row.outcome, style=styles[row.outcome]), str(row.nodes),
                      ellipsis(row.task or "", task_width))
    return table


@app.command("show")
@reports_errors
def show(
    trace_id: Annotated[str, typer.Argument(help="The trace to draw (see `calltree list`).")],
    store: StoreOpt,
    png: Annotated[Path | None, typer.Option("--png", help="Also draw it into this PNG file.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a foldable HTML view of it.")] = None,
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, help="Most nodes printed in the terminal.")] = 500,
) -> None:
    """Print one trace as a tree, each line starting with its node id (for `recommend next --node`).

    The PNG is a layered drawing of up to 400 nodes; for a larger trace the HTML view of all of
    it is written beside the PNG as well.
    """
    with open_store(store, read_only=True) as opened:
        tree = opened.get_tree(trace_id)
    if tree is None:
        raise InputError(f"no trace {trace_id!r} in the store; `coachgraph calltree list --store {store}` "
                         "shows the stored ones", source=store)
    console.print(rich_tree(tree, max_nodes=max_nodes))
    if png is not None:
        with working(f"drawing {len(tree.nodes)} nodes"):
            drawn = render_png(tree, png)
        console.print(f"wrote {drawn.path} ({drawn.drawn} of {drawn.total} nodes)")
        if drawn.drawn < drawn.total and html is None:
            html = png.with_suffix(".html")
    if html is not None:
        console.print(f"wrote {write_html(tree, html)} (all {len(tree.nodes)} nodes)")


@app.command("stats")
@reports_errors
def stats(store: StoreOpt) -> None:
    """Summarise a store: traces, nodes, agents, tools, pools, per source and per kind."""
    with open_store(store, read_only=True) as opened:
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


@contextmanager
def _replacing(out: Path, overwrite: bool) -> Iterator[Path]:
    """A path to write in place of `out`, moved onto it only when writing succeeds: a failed
    export leaves no half-written file, and an existing `out` is replaced only with `overwrite`."""
    if out.exists() and not overwrite:
        raise InputError("already exists; pass --overwrite to replace it, or choose another --out",
                         source=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".coachgraph-export-") as scratch:
        staged = Path(scratch) / out.name
        yield staged
        if out.is_dir() and not out.is_symlink():
            shutil.rmtree(out)
        os.replace(staged, out)


@app.command("export")
@reports_errors
def export(
    store: StoreOpt,
    format_name: Annotated[Literal["otlp-json", "agent-rec"], typer.Option("--format", help="Output format.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (otlp-json) or folder (agent-rec).")],
    trace_ids: Annotated[list[str] | None, typer.Argument(help="Traces to export (default: all).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out when it exists.")] = False,
) -> None:
    """Write stored traces as OTLP/JSON or in the agent-rec schema."""
    with open_store(store, read_only=True) as opened:
        ids = trace_ids or opened.trace_ids()
        missing = sorted(set(ids) - set(opened.trace_ids())) if trace_ids else []
        if missing:
            raise InputError(f"no trace {missing[0]!r} in the store ({len(missing)} missing)", source=store)
        trees = list(progress(opened.iter_trees(ids), len(ids), "reading traces"))
        refs = sorted({t.pool_ref for t in trees if t.pool_ref})
        pools = [p for p in (opened.get_pool(r) for r in refs) if p is not None]
    with _replacing(out, overwrite) as staged:
        count = EXPORTERS[format_name](trees, staged, pools)
    console.print(f"exported {count} traces to {out}")


def register(app_: typer.Typer) -> None:
    """Add `ingest` and the `calltree` group to the main application."""
    app_.command("ingest")(ingest_command)
    app_.add_typer(app, name="calltree")

