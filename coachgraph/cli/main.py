"""Entry point of the `coachgraph` command: assembles the command groups."""

from __future__ import annotations

import typer

from coachgraph.cli import (
    bench,
    calltree,
    demo,
    graphs,
    models,
    orchestrate,
    pool,
    recommend,
    skills,
    train,
    tutor,
)
from coachgraph.cli._console import setup_logging
from coachgraph.cli._errors import OneLineErrorGroup
from coachgraph.config import Settings

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
    _set_threads(Settings.from_env().threads)


def _set_threads(threads: int) -> None:
    """Torch's intra-op threads for the whole command (``COACHGRAPH_THREADS``; 0: torch's default).
    The thread count is process-wide, so only the command line sets it, never the library."""
    if threads:
        import torch

        torch.set_num_threads(threads)


models.register(app)
calltree.register(app)
skills.register(app)
train.register(app)
recommend.register(app)
tutor.register(app)
orchestrate.register(app)
pool.register(app)
demo.register(app)
app.add_typer(graphs.app, name="graphs")
app.add_typer(bench.app, name="bench")

if __name__ == "__main__":
    app()
