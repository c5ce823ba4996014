"""`coachgraph pool`: show an agent pool and check a pool file before a run uses it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from coachgraph.agents.members import check_members
from coachgraph.agents.pool import BUILTIN_POOL, MemberSpec, PoolFile, load_pool
from coachgraph.cli._console import console, reports_errors, styled
from coachgraph.errors import ConfigError

__all__ = ["app", "register"]

app = typer.Typer(help="Agent pools: the agents and tools orchestrate runs build teams from.", no_args_is_help=True)

POOL = typer.Option(None, "--pool", help="Pool file (YAML); default: the built-in arithmetic pool.")
PATH = typer.Argument(..., help="Pool file to check.")


def register(root: typer.Typer) -> None:
    """Add the `pool` group to the root command."""
    root.add_typer(app, name="pool")


def _what(member: MemberSpec) -> str:
    """What a member is, as its pool file names it.

    >>> _what(MemberSpec(name="c", description="d", tool="m:t"))
    'tool m:t'
    >>> _what(MemberSpec(name="s", description="d", model="smollm2", tools=("team",)))
    'model smollm2 (tools: team)'
    """
    parts = [f"tool {member.tool}"] if member.tool else []
    parts += [f"graph {member.graph}"] if member.graph else []
    parts += [f"model {member.model}"] if member.model else []
    extras = [f"skills: {member.skills}"] if member.skills else []
    extras += [f"tools: {', '.join(member.tools)}"] if member.tools else []
    return " ".join(parts) + (f" ({'; '.join(extras)})" if extras else "")


def _count(n: int, noun: str) -> str:
    """`n` and its noun, plural unless one.

    >>> _count(1, "tool"), _count(3, "agent")
    ('1 tool', '3 agents')
    """
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _table(pool: PoolFile, source: Path) -> Table:
    table = Table("member", "kind", "cost", "serves", "what it is", "description",
                  title=f"pool {pool.name} ({source})", caption=pool.description or None)
    for m in pool.members:
        table.add_row(m.name, m.kind, f"{m.cost:g}", ", ".join(m.serves), _what(m), m.description)
    return table


@app.command("show")
@reports_errors
def show(pool: Path | None = POOL,
         as_json: bool = typer.Option(False, "--json", help="Print the pool as JSON instead of a table.")) -> None:
    """List a pool's members: name, kind, cost, task kinds served, what each is, and its description."""
    loaded = load_pool(pool)
    if as_json:
        console.print(json.dumps(loaded.model_dump(mode="json"), indent=2))
        return
    console.print(_table(loaded, pool or BUILTIN_POOL))


@app.command("check")
@reports_errors
def check(path: Path = PATH) -> None:
    """Check a pool file: its fields, and that every member can be built (each import path resolves
    to a tool, a graph or a function taking the member's options; each model spec is known).

    This imports the modules the file names; it loads no model and runs no member.
    """
    loaded = load_pool(path)
    try:
        check_members(loaded)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    agents = sum(m.kind == "agent" for m in loaded.members)
    console.print(styled(("ok: ", "bold green"), f"{path}: pool {loaded.name}, {_count(len(loaded.members), 'member')} "
                         f"({_count(agents, 'agent')}, {_count(len(loaded.members) - agents, 'tool')}); "
                         "every member can be built"))
