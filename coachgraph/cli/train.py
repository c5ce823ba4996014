"""`coachgraph train` (one curriculum run, resumable) and `coachgraph bench curriculum`."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import torch
import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from coachgraph.agents import Objective
from coachgraph.cli._console import console, err_console, reports_errors
from coachgraph.cli._options import comma_list
from coachgraph.cli.bench import app as bench_app
from coachgraph.errors import ConfigError, InputError
from coachgraph.graphs.curriculum import (
    AgentConfig,
    BenchConfig,
    RunConfig,
    RunResult,
    bench_table,
    check_run,
    load_run,
    run_curriculum_bench,
    train_run,
)

__all__ = ["register"]

_DEFAULT = RunConfig()
_AGENTS = AgentConfig()
RUN_OUT = typer.Option(Path("runs/train"), "--out", help="Run folder for checkpoints and outputs.")
RESUME = typer.Option(None, "--resume", help="Continue the run saved in this folder.")
LIBRARY = typer.Option(None, help="Shared skill library (default: one in the run folder).")
JSON_OUT = typer.Option(..., "--json", help="Where to write the summary.")
TEACHER_OPTION = typer.Option(
    [], "--teacher-option", help="NAME.FIELD=VALUE over the run's teacher defaults, e.g. alp-gmm.fit_rate=32.")
OBJECTIVE = typer.Option(_AGENTS.objective, help="Training objective: sft, grpo, nsr, w-reinforce, redi.")
EVAL_SKILLS = typer.Option("", help="Comma-separated skills evaluated on their held-out sets (empty: the run's).")
BENCH_OUT = typer.Option(Path("runs/bench-curriculum"), "--out", help="Folder of the runs (resumable).")


def register(root: typer.Typer) -> None:
    """Add `train` to the root command and `curriculum` to `bench`."""
    root.command("train")(train)
    bench_app.command("curriculum")(bench_curriculum)


def _teacher_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """``NAME.FIELD=VALUE`` items as per-teacher option dicts; values are read as JSON when they parse.

    >>> _teacher_options(["alp-gmm.fit_rate=32", "alp-gmm.criterion=bic"])
    {'alp-gmm': {'fit_rate': 32, 'criterion': 'bic'}}
    """
    options: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        name, dot, option = key.rpartition(".")
        if not (sep and dot and name and option):
            raise InputError(f"--teacher-option {item!r}: expected NAME.FIELD=VALUE", source="--teacher-option")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        options.setdefault(name, {})[option] = value
    return options


class _Bars:
    """A rich progress bar fed by the run's per-node callback: step, accuracy, current category."""

    def __init__(self, progress: Progress, total: int, label: str) -> None:
        self.progress = progress
        self.task = progress.add_task(label, total=total, accuracy="-", category="-", reward="-")

    def __call__(self, node: str, values: Mapping[str, Any]) -> None:
        fields: dict[str, Any] = {}
        if node == "planner" and values.get("plan"):
            skills = [s.get("skill") or "?" for s in values["plan"]]
            fields["category"] = max(set(skills), key=skills.count)
        elif node == "learn":
            fields["completed"] = int(values["step"])
            fields["reward"] = f"{values['metrics'][0]['mean_reward']:.2f}"
        elif node == "evaluate":
            accuracy = values["history"][0]["accuracy"]
            fields["accuracy"] = f"{statistics.fmean(accuracy.values()):.3f}" if accuracy else "-"
        if fields:
            self.progress.update(self.task, **fields)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
                    TextColumn("held-out {task.fields[accuracy]}", markup=False),
                    TextColumn("reward {task.fields[reward]}", markup=False),
                    TextColumn("{task.fields[category]}", style="cyan", markup=False), TimeElapsedColumn(),
                    console=err_console)


def _print_result(result: RunResult) -> None:
    if not result.finished:
        console.print(f"stopped after step {result.steps_done}; continue with "
                      f"`coachgraph train --resume {result.run_dir}`")
        return
    table = Table("skill", "before", "after", "change", title=f"held-out accuracy ({result.run_id})")
    first = result.history[0]["accuracy"] if result.history else {}
    for skill, after in result.final_accuracy.items():
        before = first.get(skill, 0.0)
        table.add_row(skill, f"{before:.2f}", f"{after:.2f}", f"{after - before:+.2f}")
    console.print(table)
    for name, path in result.outputs.items():
        console.print(f"{name}: {path}")


_AGENT_OPTIONS = frozenset(AgentConfig.model_fields)
_CLI_ONLY = frozenset({"out", "resume", "stop_after"})


def _run_config(values: Mapping[str, Any], base: RunConfig | None = None) -> RunConfig:
    """A `RunConfig` from option values (over `base` when resuming); bad values name the option."""
    fields = {k: v for k, v in values.items() if k not in _AGENT_OPTIONS}
    agents = {k: v for k, v in values.items() if k in _AGENT_OPTIONS}
    data = base.model_dump() if base is not None else {}
    data.update(fields)
    data["agents"] = {**data.get("agents", {}), **agents}
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        option = "--" + str(first["loc"][-1]).replace("_", "-")
        raise ConfigError(f"{option}: {first['msg']}") from None


def _option_values(ctx: typer.Context, only_given: bool) -> dict[str, Any]:
    """Run settings from the command line, keyed by config field (all, or those typed)."""
    values = {}
    for name, value in ctx.params.items():
        source = ctx.get_parameter_source(name)
        if name in _CLI_ONLY or (only_given and getattr(source, "name", None) != "COMMANDLINE"):
            continue
        values[name] = value
    for name in ("skills", "eval_skills"):
        if name in values:
            values[name] = comma_list(values[name])
    if "teacher_option" in values:
        values["teacher_options"] = _teacher_options(values.pop("teacher_option"))
    if "library" in values:
        values["library"] = str(values["library"]) if values["library"] else None
    return values


@reports_errors
def train(
    ctx: typer.Context,
    teacher: str = typer.Option(_DEFAULT.teacher, help="Curriculum algorithm, e.g. sec, alp-gmm, prereq-gate+sec."),
    teacher_option: list[str] = TEACHER_OPTION,
    steps: int = typer.Option(_DEFAULT.steps, min=1, help="Training steps."),
    seed: int = typer.Option(_DEFAULT.seed, help="Run seed."),
    out: Path = RUN_OUT,
    resume: Path | None = RESUME,
    domain: str = typer.Option(_DEFAULT.domain, help="Task domain: arithmetic, or jsonl:<path> (GSM8K-style)."),
    student: str = typer.Option(_DEFAULT.student, help="Student model spec (trainable: smollm2 or hf:<path>)."),
    precision: Literal["fp32", "bf16", "int8"] = typer.Option(_DEFAULT.precision, help="Generation precision of the student."),
    train_precision: Literal["fp32", "bf16"] = typer.Option(_DEFAULT.train_precision,
                                                            help="Arithmetic of the student's training step."),
    objective: Objective = OBJECTIVE,
    positive_weight: float = typer.Option(_AGENTS.positive_weight, min=0.0, help="lambda of w-reinforce (weight of correct answers)."),
    negative_weight: float = typer.Option(_AGENTS.negative_weight, min=0.0, help="alpha of redi (weight of wrong answers)."),
    batch_size: int = typer.Option(_AGENTS.batch_size, min=1, help="Problems per step."),
    samples: int = typer.Option(_AGENTS.samples, min=1, help="Answers sampled per problem (G)."),
    eval_every: int = typer.Option(_DEFAULT.eval_every, min=0, help="Steps between held-out evaluations."),
    eval_size: int = typer.Option(_AGENTS.eval_size, min=1, help="Held-out problems per skill."),
    skills: str = typer.Option(",".join(_DEFAULT.skills), help="Comma-separated skills (empty: all)."),
    eval_skills: str = EVAL_SKILLS,
    max_tokens: int = typer.Option(_AGENTS.max_tokens, min=1, help="Longest student answer."),
    lr: float = typer.Option(_DEFAULT.lr, min=1e-12, help="Learning rate (> 0)."),
    lora_rank: int = typer.Option(_DEFAULT.lora_rank, min=0, help="LoRA rank (0: train all weights)."),
    library: Path | None = LIBRARY,
    skills_k: int = typer.Option(_AGENTS.skills_k, min=0, help="Skills retrieved into each prompt."),
    reflect_every: int = typer.Option(_DEFAULT.reflect_every, min=0, help="Steps between reflections (0: never)."),
    teacher_model: str | None = typer.Option(None, help="Chat model spec that rewrites and writes problems."),
    reformulate: int = typer.Option(0, min=0, help="Failed problems reworded per step by the teacher model."),
    synthesize: int = typer.Option(0, min=0, help="Missing skills given a new problem per step (STAT-Syn)."),
    process_reward: Literal["none", "clip", "delta", "clip+delta"] = typer.Option(
        _AGENTS.process_reward, help="Process reward added to the outcome reward."),
    threads: int = typer.Option(0, min=0, help="Torch threads for the run (0: torch's default)."),
    stop_after: int | None = typer.Option(None, min=1, help="Stop after this many steps, leaving a resumable run."),
) -> None:
    """Train the student with a curriculum; killed at any point, `--resume DIR` finishes the same run.

    With `--resume`, options typed on the command line must match the run's saved settings.
    """
    if resume is not None:
        saved, run_id = load_run(resume)
        config = _run_config(_option_values(ctx, only_given=True), saved)
        err_console.print(f"resuming {run_id} in {resume}", markup=False)
        run_dir = resume
    else:
        config, run_dir = _run_config(_option_values(ctx, only_given=False)), out
        check_run(config)
    if config.threads:
        torch.set_num_threads(config.threads)
    with _progress() as progress:
        bars = _Bars(progress, config.steps, f"{config.teacher} seed {config.seed}")
        result = train_run(config, run_dir, resume=resume is not None, stop_after=stop_after, progress=bars)
    _print_result(result)


_BENCH = BenchConfig()


@reports_errors
def bench_curriculum(
    teachers: str = typer.Option(",".join(_BENCH.teachers), help="Comma-separated teacher specs."),
    steps: int = typer.Option(_BENCH.base.steps, min=1, help="Training steps per run."),
    seeds: int = typer.Option(_BENCH.seeds, min=1, help="Seeds per teacher."),
    json_out: Path = JSON_OUT,
    out: Path = BENCH_OUT,
    student: str = typer.Option(_DEFAULT.student, help="Student model spec."),
    skills: str = typer.Option(",".join(_BENCH.base.skills), help="Comma-separated skills practised."),
    eval_skills: str = EVAL_SKILLS,
    scored: str = typer.Option("", help="Comma-separated evaluated skills the comparison is scored on (empty: all)."),
    batch_size: int = typer.Option(_BENCH.base.agents.batch_size, min=1, help="Problems per step."),
    samples: int = typer.Option(_BENCH.base.agents.samples, min=1, help="Answers sampled per problem (G)."),
    objective: Objective = OBJECTIVE,
    eval_every: int = typer.Option(_BENCH.base.eval_every, min=0, help="Steps between held-out evaluations."),
    eval_size: int = typer.Option(_BENCH.base.agents.eval_size, min=1, help="Held-out problems per skill."),
    threads: int = typer.Option(0, min=0, help="Torch threads (0: torch's default)."),
) -> None:
    """Every teacher trains the same student on the same budget and held-out sets; compare them,
    paired with random by seed and held-out problem."""
    agents = _BENCH.base.agents.model_copy(update={
        "batch_size": batch_size, "samples": samples, "objective": objective, "eval_size": eval_size,
        "eval_skills": comma_list(eval_skills)})
    base = _BENCH.base.model_copy(update={"steps": steps, "student": student, "skills": comma_list(skills),
                                          "threads": threads, "eval_every": eval_every, "agents": agents})
    config = BenchConfig(teachers=comma_list(teachers), seeds=seeds, base=base, scored=comma_list(scored))
    for teacher in config.teachers:
        check_run(base.model_copy(update={"teacher": teacher}))
    if threads:
        torch.set_num_threads(threads)
    with _progress() as progress:
        def on_run(teacher: str, seed: int) -> Callable[[str, Mapping[str, Any]], None]:
            return _Bars(progress, steps, f"{teacher} seed {seed}")

        summary = run_curriculum_bench(config, out, progress=on_run)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    console.print(bench_table(summary))
    console.print(f"untrained accuracy {summary['initial']:.3f}, random's final {summary['random_final']:.3f}; "
                  f"best other teacher: {summary['best']}")
