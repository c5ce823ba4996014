"""`coachgraph ingest` and the `coachgraph calltree` group: read, look at and export traces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coachgraph.calltree.export import EXPORTERS
from coachgraph.calltree.ingest import FORMATS, ingest, write_quarantine
from coachgraph.calltree.render import render_png, rich_tree
from coachgraph.calltree.stores import open_store
from coachgraph.cli._console import console, reports_errors
from coachgraph.errors import ConfigError, InputError

__all__ = ["app", "ingest_command", "register"]

app = typer.Typer(help="Look at, summarise and export stored calling trees.",
                  no_args_is_help=True)


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
