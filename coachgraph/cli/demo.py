"""`coachgraph demo`: the main job, on the embedded models, with progress bars and a short summary."""

from __future__ import annotations

from pathlib import Path

import torch
import typer

from coachgraph.cli._console import console, err_console, reports_errors, styled
from coachgraph.cli.orchestrate import TaskBars, progress_bars
from coachgraph.cli.train import _Bars, _progress
from coachgraph.demo import DemoConfig, DemoResult, run_demo
from coachgraph.demo.report import learnable_gain
from coachgraph.graphs.curriculum import check_run
from coachgraph.graphs.orchestrate import check_orchestrate

__all__ = ["register"]

_DEFAULT = DemoConfig()
DEMO_OUT = typer.Option(Path("runs/demo"), "--out", help="Demo folder (run again to continue it).")


def register(root: typer.Typer) -> None:
    """Add `demo` to the root command."""
    root.command("demo")(demo)


def _summary(result: DemoResult) -> None:
    before, after = learnable_gain(result.curriculum.history)
    console.print(styled(("curriculum: ", "bold"), f"held-out accuracy {before:.2f} -> {after:.2f} on "
                         f"{', '.join(result.skills)} after {result.curriculum.steps_done} steps"))
    written = [r["skill"] for r in result.reflections if r.get("skill")]
    console.print(styled(("skills: ", "bold"), f"{result.skills_before} -> {result.skills_after}; reflection wrote "
                         f"{', '.join(written) or 'nothing'}"))
    rounds = ", ".join(f"{r.solved}/{r.tasks}" for r in result.rounds)
    console.print(styled(("orchestrate: ", "bold"), f"solved per round {rounds}; recommender retrained "
                         f"{len(result.retrains)} times"))
    for answer in result.queries:
        best = answer.next[0] if answer.next else None
        team = " + ".join(m.name for m in answer.team.nodes) if answer.team is not None else "none (too few teams to learn from)"
        top = f"{best.name} ({best.probability:.2f})" if best else "-"
        console.print(styled(("query ", "bold"), f"{answer.task[:60]!r}: next {top}; team {team}"))
    console.print(f"report: {result.outputs['report']} ({result.seconds / 60:.1f} min)")


@reports_errors
def demo(
    out: Path = DEMO_OUT,
    steps: int = typer.Option(_DEFAULT.curriculum.steps, min=1, help="Curriculum training steps."),
    rounds: int = typer.Option(_DEFAULT.orchestrate.rounds, min=1, help="Orchestrate rounds."),
    tasks_per_round: int = typer.Option(_DEFAULT.orchestrate.tasks_per_round, min=1, help="Tasks per round."),
    threads: int = typer.Option(0, min=0, help="Torch threads (0: torch's default)."),
    seed: int = typer.Option(0, help="Seed of both runs (problems, sampling, team draws)."),
) -> None:
    """Teach the embedded student with a curriculum, let the recommender learn to pick teams from its own
    calling trees, ask it for recommendations, and write a report folder with plots."""
    config = DemoConfig(
        curriculum=_DEFAULT.curriculum.model_copy(update={"steps": steps, "threads": threads, "seed": seed}),
        orchestrate=_DEFAULT.orchestrate.model_copy(update={"rounds": rounds, "tasks_per_round": tasks_per_round,
                                                            "retrain_every": tasks_per_round, "threads": threads,
                                                            "seed": seed}))
    check_run(config.curriculum)
    check_orchestrate(config.orchestrate)
    if threads:
        torch.set_num_threads(threads)
    with _progress() as steps_bar, progress_bars() as tasks_bar:
        cur = _Bars(steps_bar, steps, "curriculum")
        orch = TaskBars(tasks_bar, rounds * tasks_per_round, "orchestrate")
        result = run_demo(out, config, curriculum_progress=cur, orchestrate_progress=orch,
                          stage=lambda name: err_console.print(styled((name, "dim"))))
    _summary(result)
