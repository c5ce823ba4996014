"""Entry point of the `coachgraph` command: assembles the command groups."""

from __future__ import annotations

import typer

from coachgraph.cli import bench, calltree, graphs, models, recommend, skills, train
from coachgraph.cli._console import setup_logging
from coachgraph.cli._errors import OneLineErrorGroup

__all__ = ["app"]

app = typer.Typer(
    name="coachgraph",
    help="Teacher, student, critic and planner agents; curricula and learned recommendations.",
    no_args_is_help=True,
    cls=OneLineErrorGroup,
)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show library logs.")) -> None:
    setup_logging(verbose)


models.register(app)
calltree.register(app)
skills.register(app)
train.register(app)
recommend.register(app)
app.add_typer(graphs.app, name="graphs")
app.add_typer(bench.app, name="bench")

if __name__ == "__main__":
    app()
