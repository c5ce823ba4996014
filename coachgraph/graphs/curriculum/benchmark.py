"""The curriculum benchmark: every teacher trains the same student on the same budget and held-out sets.

Each (teacher, seed) run is an ordinary resumable run folder under the benchmark folder, so an
interrupted benchmark picks up where it stopped; once a run finishes, its saved student states
(needed only to resume it) are removed, so the benchmark holds at most one run's states at a
time. Every run starts from the same student and evaluates the same held-out set greedily, so
the untrained student's accuracy is measured once, by the first run, and handed to the others.
Summaries compare teachers on the mean held-out accuracy over the scored skills (by default every
evaluated one): the curve over steps, the final value with its spread over seeds, the first step
at which a teacher's seed-mean curve reaches random's final accuracy, and the final difference to
random paired by seed and held-out problem, with a bootstrap interval over both.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coachgraph.curriculum.compare import paired_interval
from coachgraph.errors import InputError
from coachgraph.graphs.curriculum.config import AgentConfig, RunConfig
from coachgraph.graphs.curriculum.run import RunResult, train_run
from coachgraph.graphs.curriculum.students import drop_states
from coachgraph.graphs.runs import Progress

__all__ = ["BenchConfig", "bench_table", "run_curriculum_bench", "summarize"]

logger = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What the benchmark varies (teachers, seeds), what every run shares (`base`) and which
    evaluated skills the comparison is scored on (`scored`; empty: all of them)."""

    teachers: tuple[str, ...] = ("random", "sec", "alp-gmm", "irt", "stat-sel")
    seeds: int = 2
    base: RunConfig = field(default_factory=lambda: RunConfig(
        steps=12, eval_every=3, reflect_every=0, export=False,
        agents=AgentConfig(batch_size=8, samples=2, eval_size=16, max_tokens=40, skills_k=0)))
    scored: tuple[str, ...] = ()


def _score(evaluation: Mapping[str, Any], scored: Sequence[str]) -> float:
    """Mean accuracy of one evaluation over the scored skills (all its skills when none are named)."""
    accuracy = evaluation["accuracy"]
    return statistics.fmean(accuracy[s] for s in (scored or list(accuracy)))


def _mean_curve(results: Sequence[RunResult], scored: Sequence[str]) -> list[dict[str, Any]]:
    """Per evaluation step: the seed-mean of the scored mean accuracy, and each skill's seed mean."""
    curve = []
    for evals in zip(*(r.history for r in results), strict=True):
        skills = list(evals[0]["accuracy"])
        per_skill = {s: statistics.fmean(e["accuracy"][s] for e in evals) for s in skills}
        means = [_score(e, scored) for e in evals]
        curve.append({"step": evals[0]["step"], "mean": statistics.fmean(means),
                      "spread": statistics.pstdev(means), "per_skill": per_skill})
    return curve


def _first_reaching(curve: Sequence[Mapping[str, Any]], target: float) -> int | None:
    return next((int(point["step"]) for point in curve if point["mean"] >= target - 1e-9), None)


def _final_outcomes(result: RunResult, scored: Sequence[str]) -> list[int]:
    """0/1 per held-out problem of the scored skills at the run's last evaluation, skill by skill."""
    final = result.history[-1]
    skills = scored or list(final["accuracy"])
    if "correct" not in final:
        raise InputError(f"{result.run_dir}: the last evaluation records no per-problem outcomes",
                         source=str(result.run_dir / "checkpoints.sqlite"))
    return [int(c) for s in skills for c in final["correct"][s]]


def _paired(runs: Sequence[RunResult], baseline: Sequence[RunResult], scored: Sequence[str]) -> dict[str, float]:
    """Final scored accuracy minus random's, paired by seed and held-out problem, with its interval."""
    table = [[a - b for a, b in zip(_final_outcomes(r, scored), _final_outcomes(q, scored), strict=True)]
             for r, q in zip(runs, baseline, strict=True)]
    mean, low, high = paired_interval(table)
    return {"mean": mean, "low": low, "high": high, "seeds": len(table), "problems": len(table[0])}


def summarize(results: Mapping[str, Sequence[RunResult]], steps: int, scored: Sequence[str] = ()) -> dict[str, Any]:
    """Compare teachers: curves, final accuracy with spread, steps to reach random's final accuracy,
    and the paired difference to random.

    `results` maps each teacher to its runs (one per seed, in seed order); it must include ``random``.
    When random ends no higher than the untrained student, reaching its final accuracy says nothing,
    and no teacher is given a step for it.
    """
    curves = {t: _mean_curve(rs, scored) for t, rs in results.items()}
    finals = {t: [_score(r.history[-1], scored) for r in rs] for t, rs in results.items()}
    target, initial = statistics.fmean(finals["random"]), curves["random"][0]["mean"]
    teachers: dict[str, Any] = {}
    for name, runs in results.items():
        reach = _first_reaching(curves[name], target) if target > initial else None
        teachers[name] = {
            "final_accuracy": statistics.fmean(finals[name]),
            "final_spread": statistics.pstdev(finals[name]),
            "final_per_seed": finals[name],
            "final_per_skill": curves[name][-1]["per_skill"],
            "paired_vs_random": None if name == "random" else _paired(runs, results["random"], scored),
            "steps_to_random_final": reach,
            "fraction_of_random_steps": None if reach is None else reach / steps,
            "curve": curves[name],
            "run_dirs": [str(r.run_dir) for r in runs],
        }
    others = {t: v for t, v in teachers.items() if t != "random"}
    best = max(others, key=lambda t: others[t]["final_accuracy"]) if others else None
    return {"steps": steps, "scored_skills": list(scored), "initial": initial, "random_final": target,
            "random_improved": target > initial, "best": best, "teachers": teachers}


def bench_table(summary: Mapping[str, Any]) -> str:
    """Markdown table: one row per teacher."""
    rows = ["| teacher | final accuracy | spread over seeds | paired vs random [95% CI] | steps to random's final "
            "| share of random's steps |", "|---|---|---|---|---|---|"]
    unreached = "not reached" if summary["random_improved"] else "random did not improve"
    for name, t in summary["teachers"].items():
        reach = unreached if t["steps_to_random_final"] is None else str(t["steps_to_random_final"])
        share = "" if t["fraction_of_random_steps"] is None else f"{t['fraction_of_random_steps']:.0%}"
        pair = t["paired_vs_random"]
        paired = "—" if pair is None else f"{pair['mean']:+.3f} [{pair['low']:+.3f}, {pair['high']:+.3f}]"
        rows.append(f"| {name} | {t['final_accuracy']:.3f} | ±{t['final_spread']:.3f} | {paired} | {reach} "
                    f"| {share} |")
    return "\n".join(rows)


def _one_run(config: RunConfig, run_dir: Path, progress: Progress | None) -> RunResult:
    """Run, resume an unfinished run, or reread a finished one in `run_dir`; a finished run keeps
    its outputs (and its exported checkpoint when `export` is set) but not its student states."""
    resume = (run_dir / "run.json").is_file()
    result = train_run(None if resume else config, run_dir, resume=resume, progress=progress)
    if result.finished:
        drop_states(run_dir)
    return result


def _check_scored(config: BenchConfig) -> None:
    """Scored skills must be evaluated ones (the run's skills when `eval_skills` is empty)."""
    evaluated = config.base.agents.eval_skills or config.base.skills
    missing = [s for s in config.scored if evaluated and s not in evaluated]
    if missing:
        raise InputError(f"scored skill {missing[0]!r} is not evaluated; evaluated: {', '.join(evaluated)}",
                         source="scored")


def run_curriculum_bench(config: BenchConfig, out_dir: str | Path,
                         progress: Callable[[str, int], Progress | None] | None = None) -> dict[str, Any]:
    """Run every (teacher, seed) under `out_dir`, then write and return the summary.

    Args:
        config: teachers, seeds and the shared run settings.
        out_dir: benchmark folder; runs go to ``<teacher>-s<seed>/``, the summary to ``summary.json``.
        progress: given (teacher, seed), returns the per-node progress callback of that run.
    """
    _check_scored(config)
    out, started = Path(out_dir), time.perf_counter()
    teachers = config.teachers if "random" in config.teachers else ("random", *config.teachers)
    results: dict[str, list[RunResult]] = {}
    base = config.base
    for teacher in teachers:
        for seed in range(config.seeds):
            logger.info("benchmark run %s seed %d", teacher, seed)
            on_node = progress(teacher, seed) if progress else None
            result = _one_run(base.model_copy(update={"teacher": teacher, "seed": seed}), out / f"{teacher}-s{seed}",
                              on_node)
            results.setdefault(teacher, []).append(result)
            if base.agents.initial_accuracy is None and result.history:
                agents = base.agents.model_copy(update={"initial_accuracy": dict(result.history[0]["accuracy"])})
                base = base.model_copy(update={"agents": agents})
    summary = {"config": {"teachers": list(teachers), "seeds": config.seeds, "scored": list(config.scored),
                          "base": config.base.model_dump(mode="json")},
               **summarize(results, config.base.steps, config.scored),
               "wall_s": round(time.perf_counter() - started, 1)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    scored = ", ".join(config.scored) or "every evaluated skill"
    header = (f"{config.seeds} seeds x {config.base.steps} steps, scored on {scored}; "
              f"untrained {summary['initial']:.3f}, random's final {summary['random_final']:.3f}; "
              f"{summary['wall_s']:.0f} s wall clock")
    (out / "summary.md").write_text(f"# Curriculum benchmark\n\n{header}\n\n{bench_table(summary)}\n",
                                    encoding="utf-8")
    return summary
