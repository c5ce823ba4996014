"""`coachgraph ingest` and the `coachgraph calltree` group: read, list, look at and export traces.

Every command but `ingest` opens its store read-only: a mistyped path is refused, never created.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from coachgraph.calltree.base import TraceQuery, TraceSummary
from coachgraph.calltree.export import EXPORTERS
from coachgraph.calltree.html_view import write_html
from coachgraph.calltree.ingest import FORMATS, ingest, write_quarantine
from coachgraph.calltree.render import ellipsis, render_png, rich_tree
from coachgraph.calltree.stores import open_store
from coachgraph.cli._console import console, progress, reports_errors, working
from coachgraph.errors import ConfigError, InputError

__all__ = ["app", "ingest_command", "register"]

app = typer.Typer(help="List, look at, summarise and export stored calling trees.",
                  no_args_is_help=True)

StoreOpt = Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN (read only).")]


@reports_errors
def ingest_command(
    inputs: Annotated[list[Path], typer.Argument(help="Files or folders to read.")],
    format_name: Annotated[str, typer.Option(
        "--format", help=f"One of: {', '.join(sorted(FORMATS))}.")],
    store: Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN.")],
    strict: Annotated[bool, typer.Option(
        "--strict", help="Stop at the first malformed record.")] = False,
    quarantine: Annotated[Path | None, typer.Option(
        "--quarantine", help="Where to write rejected records (default: STORE.quarantine.jsonl).",
    )] = None,
) -> None:
    """Read traces into the calling-tree store; malformed records are quarantined."""
    if format_name not in FORMATS:
        raise ConfigError(f"unknown format {format_name!r}; known: {', '.join(sorted(FORMATS))}")
    with open_store(store) as opened:
        report = ingest(opened, format_name, inputs, strict=strict)
    if report.quarantined:
        write_quarantine(report.quarantined, quarantine or Path(f"{store}.quarantine.jsonl"))
    console.print(report.summary(), highlight=False)


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

