"""The orchestrate benchmark: paired margins on the same tasks, the faulty share, the bar; and a
small benchmark end to end on the fake-model pool."""

from __future__ import annotations

import json
from pathlib import Path

from coachgraph.graphs.orchestrate import OrchestrateConfig
from coachgraph.graphs.orchestrate.benchmark import (
    OrchestrateBenchConfig,
    bench_rounds_table,
    run_orchestrate_bench,
    summarize_bench,
)


def _records(policy_success: list[list[bool]], team: list[str]) -> list[dict]:
    return [{"round": r, "index": r * 10 + i, "seed": 0, "success": ok, "team": team, "cost": 1.0, "seconds": 0.1}
            for r, outcomes in enumerate(policy_success) for i, ok in enumerate(outcomes)]


def test_margins_are_paired_by_task_and_the_bar_reads_the_last_round() -> None:
    results = {"learned": _records([[False] * 10, [True] * 10], ["calculator"]) ,
               "random": _records([[False] * 10, [False] * 8 + [True] * 2], ["answer-cache"])}
    results["learned"][0]["team"] = ["answer-cache"]
    summary = summarize_bench(results, None, ["answer-cache"], rounds=2)
    last = summary["margins"]["random"][-1]
    assert last["margin"] == 0.8 and last["low"] > 0 and summary["margins"]["random"][0]["margin"] == 0.0
    assert summary["bar"] == {"above_random": True, "faulty_share_falls": True}
    assert "| 2 |" in bench_rounds_table(summary)


def test_a_small_benchmark_runs_every_policy_on_the_same_tasks(tmp_path: Path, small_config: OrchestrateConfig) -> None:
    config = OrchestrateBenchConfig(seeds=1, base=small_config.model_copy(update={"rounds": 2, "tasks_per_round": 3}))
    summary = run_orchestrate_bench(config, tmp_path)
    tasks = {}
    for policy in config.policies:
        records = [json.loads(line) for line in (tmp_path / f"{policy}-s0" / "results.jsonl").read_text().splitlines()]
        tasks[policy] = [r["task_id"] for r in sorted(records, key=lambda r: r["index"])]
    assert tasks["learned"] == tasks["random"] == tasks["fixed"]
    assert set(summary["bar"]) == {"above_random", "above_fixed", "faulty_share_falls"}
    assert (tmp_path / "summary.md").is_file() and (tmp_path / "success_per_round.png").is_file()
