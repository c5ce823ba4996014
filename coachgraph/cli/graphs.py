"""`coachgraph graphs`: the package's graphs, their wiring, and ``langgraph.json``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from coachgraph.cli._console import console, reports_errors
from coachgraph.errors import InputError
from coachgraph.graphs import GRAPHS, langgraph_config

__all__ = ["app"]

OUT = typer.Option(None, "--out", help="Write here instead of printing.")

app = typer.Typer(help="The graphs: list them, draw their wiring, write langgraph.json.", no_args_is_help=True)


@app.command("list")
@reports_errors
def list_graphs() -> None:
    """Every graph with its nodes."""
    table = Table("graph", "nodes", "description")
    for name, entry in sorted(GRAPHS.items()):
        nodes = [n for n in entry.factory().get_graph().nodes if not n.startswith("__")]
        table.add_row(name, ", ".join(nodes), entry.description)
    console.print(table)


@app.command("draw")
@reports_errors
def draw(name: str = typer.Argument(..., help="Graph name (see `coachgraph graphs list`).")) -> None:  # noqa: B008
    """The graph's wiring as a Mermaid diagram."""
    if name not in GRAPHS:
        raise InputError(f"no graph {name!r}; known: {', '.join(sorted(GRAPHS))}", source="graph")
    console.print(GRAPHS[name].factory().get_graph().draw_mermaid(), markup=False, highlight=False)


@app.command("langgraph-json")
@reports_errors
def langgraph_json(out: Path | None = OUT) -> None:
    """``langgraph.json`` for LangGraph's server (`langgraph dev`), from the registry of graphs."""
    text = json.dumps(langgraph_config(), indent=2) + "\n"
    if out is None:
        console.print(text, markup=False, highlight=False, end="")
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}", markup=False)
