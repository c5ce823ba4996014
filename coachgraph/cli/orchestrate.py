"""`coachgraph orchestrate` (one run, resumable) and `coachgraph bench orchestrate`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from coachgraph.cli._console import console, err_console, reports_errors
from coachgraph.cli._options import comma_list
from coachgraph.cli.bench import app as bench_app
from coachgraph.errors import ConfigError
from coachgraph.graphs.orchestrate import (
    OrchestrateConfig,
    OrchestrateResult,
    check_orchestrate,
    load_orchestrate_run,
    orchestrate_run,
)
from coachgraph.graphs.orchestrate.benchmark import (
    BUILTIN_FAULTY,
    OrchestrateBenchConfig,
    bench_rounds_table,
    run_orchestrate_bench,
)

__all__ = ["register"]

_DEFAULT = OrchestrateConfig()
_BENCH = OrchestrateBenchConfig()
POOL = typer.Option(None, help="Pool file (YAML); default: the built-in arithmetic pool.")
CORPUS = typer.Option([], "--corpus", help="Calling-tree store the recommender also learns from (repeatable).")
LIBRARY = typer.Option(None, help="Skill library (default: one in the run folder).")
RUN_OUT = typer.Option(Path("runs/orchestrate"), "--out", help="Run folder.")
RESUME = typer.Option(None, "--resume", help="Continue the run saved in this folder.")
JSON_OUT = typer.Option(..., "--json", help="Where to write the summary.")
BENCH_OUT = typer.Option(Path("runs/bench-orchestrate"), "--out", help="Folder of the runs (resumable).")


def register(root: typer.Typer) -> None:
    """Add `orchestrate` to the root command and `orchestrate` to `bench`."""
    root.command("orchestrate")(orchestrate)
    bench_app.command("orchestrate")(bench_orchestrate)


class TaskBars:
    """A rich progress bar per run, fed by its per-node callback: tasks done, solved share, retrainings."""

    def __init__(self, progress: Progress, total: int, label: str) -> None:
        self.progress, self.solved, self.done = progress, 0, 0
        self.task = progress.add_task(label, total=total, solved="-", model="no model")

    def __call__(self, node: str, values: Mapping[str, Any]) -> None:
        if node == "run_team":
            for record in values.get("results", []):
                self.done += 1
                self.solved += bool(record["success"])
            self.progress.update(self.task, completed=self.done, solved=f"{self.solved / max(self.done, 1):.2f}")
        elif node in ("retrain", "prepare") and values.get("model_version"):
            self.progress.update(self.task, model=f"model v{values['model_version']}")


def progress_bars() -> Progress:
    """The progress display of orchestrate runs (on stderr)."""
    return Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
                    TextColumn("solved {task.fields[solved]}", markup=False),
                    TextColumn("{task.fields[model]}", style="cyan", markup=False), TimeElapsedColumn(),
                    console=err_console)


def print_rounds(result: OrchestrateResult) -> None:
    """The run's rounds as a table, and its output files."""
    if not result.finished:
        console.print(f"stopped; continue with `coachgraph orchestrate --resume {result.run_dir}`")
        return
    table = Table("round", "solved", "success (95% interval)", "cost per solved", title=f"{result.run_id}")
    for r in result.rounds:
        per = "-" if r.cost_per_solved is None else f"{r.cost_per_solved:.2f}"
        table.add_row(str(r.round + 1), f"{r.solved}/{r.tasks}", f"{r.success:.2f} ({r.low:.2f}-{r.high:.2f})", per)
    console.print(table)
    for name, path in result.outputs.items():
        console.print(f"{name}: {path}")


def _config(values: Mapping[str, Any], base: OrchestrateConfig | None = None) -> OrchestrateConfig:
    data = {**(base.model_dump() if base is not None else {}), **values}
    try:
        return OrchestrateConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigError(f"--{str(first['loc'][-1]).replace('_', '-')}: {first['msg']}") from None


@reports_errors
def orchestrate(
    ctx: typer.Context,
    pool: Path | None = POOL,
    policy: str = typer.Option(_DEFAULT.policy, help="learned, random or fixed."),
    rounds: int = typer.Option(_DEFAULT.rounds, min=1, help="Rounds of tasks."),
    tasks_per_round: int = typer.Option(_DEFAULT.tasks_per_round, min=1, help="Tasks per round."),
    team_size: int = typer.Option(_DEFAULT.team_size, min=1, help="Members per team."),
    retrain_every: int = typer.Option(_DEFAULT.retrain_every, min=0, help="Retrain after this many new tasks (0: never)."),
    corpus: list[str] = CORPUS,
    seed: int = typer.Option(_DEFAULT.seed, help="Run seed."),
    skills: str = typer.Option(",".join(_DEFAULT.skills), help="Comma-separated skills tasks are drawn from."),
    library: Path | None = LIBRARY,
    supervisor: str | None = typer.Option(None, help="Tool-calling chat model spec as the supervisor (default: follow the plan)."),
    fixed_team: str = typer.Option("", help="Comma-separated team of the fixed policy."),
    out: Path = RUN_OUT,
    resume: Path | None = RESUME,
    threads: int = typer.Option(0, min=0, help="Torch threads (0: torch's default)."),
    stop_after: int | None = typer.Option(None, min=1, help="Stop after this many rounds, leaving a resumable run."),
) -> None:
    """Pick a team per task from the pool, run it as a supervisor, trace it, and retrain the recommender on the traces.

    With `--resume`, options typed on the command line must match the run's saved settings.
    """
    given = {name: value for name, value in ctx.params.items()
             if name not in ("out", "resume", "stop_after", "corpus")
             and (resume is None or getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE")}
    given |= {"skills": comma_list(skills)} if "skills" in given else {}
    given |= {"fixed_team": comma_list(fixed_team)} if "fixed_team" in given else {}
    given |= {k: str(given[k]) for k in ("pool", "library") if given.get(k) is not None}
    if corpus:
        given["corpora"] = tuple(corpus)
    if resume is not None:
        saved, run_id = load_orchestrate_run(resume)
        config, run_dir = _config(given, saved), resume
        err_console.print(f"resuming {run_id} in {resume}")
    else:
        config, run_dir = _config(given), out
        check_orchestrate(config)
    if config.threads:
        torch.set_num_threads(config.threads)
    with progress_bars() as progress:
        bars = TaskBars(progress, config.rounds * config.tasks_per_round, f"{config.policy} seed {config.seed}")
        result = orchestrate_run(config, run_dir, resume=resume is not None, stop_after=stop_after, progress=bars)
    print_rounds(result)


@reports_errors
def bench_orchestrate(
    policies: str = typer.Option(",".join(_BENCH.policies), help="Comma-separated policies."),
    seeds: int = typer.Option(_BENCH.seeds, min=1, help="Seeds per policy."),
    rounds: int = typer.Option(_BENCH.base.rounds, min=1, help="Rounds per run."),
    tasks_per_round: int = typer.Option(_BENCH.base.tasks_per_round, min=1, help="Tasks per round."),
    team_size: int = typer.Option(_BENCH.base.team_size, min=1, help="Members per team."),
    pool: Path | None = POOL,
    faulty: str = typer.Option(",".join(BUILTIN_FAULTY), help="Members known to be faulty (for the faulty share)."),
    fixed_team: str = typer.Option("", help="Team of the fixed policy (default: retrieval over descriptions)."),
    json_out: Path = JSON_OUT,
    out: Path = BENCH_OUT,
    threads: int = typer.Option(0, min=0, help="Torch threads (0: torch's default)."),
) -> None:
    """The learned team choice against random teams and a fixed team: same tasks, same team size, rounds."""
    base = _BENCH.base.model_copy(update={
        "rounds": rounds, "tasks_per_round": tasks_per_round, "retrain_every": tasks_per_round, "team_size": team_size,
        "pool": str(pool) if pool else None, "fixed_team": comma_list(fixed_team), "threads": threads})
    config = OrchestrateBenchConfig(policies=comma_list(policies), seeds=seeds, faulty=comma_list(faulty), base=base)
    for policy in config.policies:
        check_orchestrate(base.model_copy(update={"policy": policy}))
    if threads:
        torch.set_num_threads(threads)
    with progress_bars() as progress:
        def on_run(policy: str, seed: int) -> Callable[[str, Mapping[str, Any]], None]:
            return TaskBars(progress, rounds * tasks_per_round, f"{policy} seed {seed}")

        summary = run_orchestrate_bench(config, out, progress=on_run)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    console.print(bench_rounds_table(summary))
    if "bar" in summary:
        console.print(f"bar: {summary['bar']}")
