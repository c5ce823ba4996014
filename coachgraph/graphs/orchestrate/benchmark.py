"""The orchestrate benchmark: the learned team choice against random teams and a fixed team, on the
same tasks with the same team size, over rounds.

Each (policy, seed) run is an ordinary resumable run folder under the benchmark folder. Tasks
depend only on the seed and the round, so every policy meets the same tasks; a task's outcomes
under two policies are paired. Per round the summary gives each policy's success rate with a
95% Wilson interval, the learned policy's margin over each baseline with a 95% paired bootstrap
interval, the share of team places held by members known to be faulty (the benchmark knows
them; the policies never see that list), and the cost per solved task.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coachgraph.agents.pool import load_pool
from coachgraph.graphs.orchestrate.config import OrchestrateConfig
from coachgraph.graphs.orchestrate.intervals import paired_difference
from coachgraph.graphs.orchestrate.outputs import RoundSummary, plot_rounds, round_summaries
from coachgraph.graphs.orchestrate.run import OrchestrateResult, orchestrate_run
from coachgraph.graphs.runs import Progress

__all__ = ["BUILTIN_FAULTY", "OrchestrateBenchConfig", "bench_rounds_table", "run_orchestrate_bench",
           "summarize_bench"]

logger = logging.getLogger(__name__)

BUILTIN_FAULTY = ("quick-calculator", "solver-pro", "answer-cache", "column-solver")
"""The built-in pool's faulty members: wrong on operator precedence, too slow for its client's
timeout, answering a nearby question, never carrying. Known to the benchmark only."""


@dataclass(frozen=True, slots=True)
class OrchestrateBenchConfig:
    """What the benchmark compares (policies, seeds) and what every run shares (`base`)."""

    policies: tuple[str, ...] = ("learned", "random", "fixed")
    seeds: int = 2
    faulty: tuple[str, ...] = BUILTIN_FAULTY
    """Members known to be faulty (for the share of faulty members in chosen teams)."""
    base: OrchestrateConfig = field(default_factory=lambda: OrchestrateConfig(rounds=5, tasks_per_round=16,
                                                                               retrain_every=16))


def _one_run(config: OrchestrateConfig, run_dir: Path, progress: Progress | None) -> OrchestrateResult:
    """Run, resume an unfinished run, or reread a finished one in `run_dir`."""
    resume = (run_dir / "run.json").is_file()
    return orchestrate_run(None if resume else config, run_dir, resume=resume, progress=progress)


def _outcomes(results: Sequence[Mapping[str, Any]], round_: int) -> dict[tuple[int, int], bool]:
    return {(int(r["seed"]), int(r["index"])): bool(r["success"]) for r in results if r["round"] == round_}


def _margins(results: Mapping[str, list[dict[str, Any]]], rounds: int) -> dict[str, list[dict[str, float]]]:
    """Per baseline and round: the learned policy's paired margin with its 95% bootstrap interval."""
    margins: dict[str, list[dict[str, float]]] = {}
    for other in (p for p in results if p != "learned"):
        rows = []
        for round_ in range(rounds):
            mine, theirs = _outcomes(results["learned"], round_), _outcomes(results[other], round_)
            keys = sorted(set(mine) & set(theirs))
            mean, low, high = paired_difference([mine[k] for k in keys], [theirs[k] for k in keys], seed=round_)
            rows.append({"round": round_, "tasks": len(keys), "margin": mean, "low": low, "high": high})
        margins[other] = rows
    return margins


def summarize_bench(results: Mapping[str, list[dict[str, Any]]], pool_path: str | None, faulty: Sequence[str],
                    rounds: int) -> dict[str, Any]:
    """Per policy and round: success with intervals, faulty share, cost per solved task; the learned
    policy's paired margins; and whether the bar is met (see `meets_bar`)."""
    pool = load_pool(pool_path)
    per_policy = {p: round_summaries(rs, pool, faulty) for p, rs in results.items()}
    summary: dict[str, Any] = {"policies": {p: [asdict(r) for r in rs] for p, rs in per_policy.items()},
                               "cost_per_solved": {p: _cost_per_solved(rs) for p, rs in results.items()}}
    if "learned" in results:
        summary["margins"] = _margins(results, rounds)
        summary["bar"] = meets_bar(per_policy["learned"], summary["margins"])
    return summary


def _cost_per_solved(results: Sequence[Mapping[str, Any]]) -> float | None:
    solved = sum(bool(r["success"]) for r in results)
    return sum(float(r["cost"]) for r in results) / solved if solved else None


def meets_bar(learned: Sequence[RoundSummary], margins: Mapping[str, Sequence[Mapping[str, float]]]) -> dict[str, bool]:
    """The benchmark's bar: in the last round the learned policy's paired margin over each baseline
    has its whole 95% interval above zero, and its share of faulty members fell from the first round."""
    bar = {f"above_{other}": bool(rows and rows[-1]["low"] > 0) for other, rows in margins.items()}
    first, last = learned[0].faulty_share, learned[-1].faulty_share
    bar["faulty_share_falls"] = first is not None and last is not None and last < first
    return bar


def bench_rounds_table(summary: Mapping[str, Any]) -> str:
    """Markdown table: one row per round, success per policy, margins, faulty share of the learned choice."""
    policies = list(summary["policies"])
    margins = summary.get("margins", {})
    head = ["round", *[f"{p} success" for p in policies], *[f"learned - {o} (paired)" for o in margins],
            *[f"{p} faulty share" for p in policies]]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i in range(len(summary["policies"][policies[0]])):
        cells = [str(i + 1)]
        for p in policies:
            r = summary["policies"][p][i]
            cells.append(f"{r['success']:.2f} ({r['low']:.2f}-{r['high']:.2f})")
        cells += [f"{m[i]['margin']:+.2f} ({m[i]['low']:+.2f} to {m[i]['high']:+.2f})" for m in margins.values()]
        cells += [_share(summary["policies"][p][i]["faulty_share"]) for p in policies]
        rows.append("| " + " | ".join(cells) + " |")
    costs = ", ".join(f"{p} {_per(c)}" for p, c in summary["cost_per_solved"].items())
    return "\n".join(rows) + f"\n\nCost per solved task over all rounds: {costs}."


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _per(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def run_orchestrate_bench(config: OrchestrateBenchConfig, out_dir: str | Path,
                          progress: Callable[[str, int], Progress | None] | None = None) -> dict[str, Any]:
    """Run every (policy, seed) under `out_dir`, then write and return the summary.

    Args:
        config: policies, seeds, the faulty members, and the shared run settings.
        out_dir: benchmark folder; runs go to ``<policy>-s<seed>/``, the summary to ``summary.json``,
            ``summary.md`` and ``success_per_round.png``.
        progress: given (policy, seed), returns the per-node progress callback of that run.
    """
    out = Path(out_dir)
    results: dict[str, list[dict[str, Any]]] = {}
    fixed: tuple[str, ...] = ()
    for seed in range(config.seeds):
        for policy in config.policies:
            logger.info("benchmark run %s seed %d", policy, seed)
            run = _one_run(config.base.model_copy(update={"policy": policy, "seed": seed}), out / f"{policy}-s{seed}",
                           progress(policy, seed) if progress else None)
            results.setdefault(policy, []).extend({**r, "seed": seed} for r in run.results)
            fixed = run.fixed
    summary = {"config": {"policies": list(config.policies), "seeds": config.seeds, "faulty": list(config.faulty),
                          "fixed_team": list(fixed), "base": config.base.model_dump(mode="json")},
               **summarize_bench(results, config.base.pool, config.faulty, config.base.rounds)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "summary.md").write_text("# Orchestrate benchmark\n\n" + bench_rounds_table(summary) + "\n", encoding="utf-8")
    series = {p: [RoundSummary(**r) for r in rows] for p, rows in summary["policies"].items()}
    plot_rounds(series, out / "success_per_round.png", title="Tasks solved per round, by team choice")
    summary["mean_success"] = {p: statistics.fmean(r["success"] for r in rows) for p, rows in summary["policies"].items()}
    return summary
