"""The `coachgraph bench` group; each area adds its benchmark command to `app`."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Benchmarks that print figures and write JSON.", no_args_is_help=True)
