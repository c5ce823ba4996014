"""The curriculum benchmark's summary: seed means, spread, steps to reach random's final accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.graphs import RunResult
from coachgraph.graphs.benchmark import bench_table, summarize
from coachgraph.types import Curriculum


def _run(curve: list[tuple[int, float, float]]) -> RunResult:
    history = [{"step": s, "accuracy": {"a": a, "b": b}} for s, a, b in curve]
    return RunResult(run_dir=Path("r"), run_id="r", steps_done=curve[-1][0], finished=True,
                     curriculum=Curriculum(teacher="t", seed=0, steps=[]), history=history,
                     final_accuracy=history[-1]["accuracy"])


def test_summary_by_hand() -> None:
    results = {
        "random": [_run([(0, 0.0, 0.0), (4, 0.2, 0.0), (8, 0.4, 0.2)]),
                   _run([(0, 0.0, 0.0), (4, 0.0, 0.2), (8, 0.2, 0.2)])],
        "sec": [_run([(0, 0.0, 0.0), (4, 0.4, 0.2), (8, 0.6, 0.4)]),
                _run([(0, 0.0, 0.0), (4, 0.2, 0.2), (8, 0.4, 0.4)])],
    }
    summary = summarize(results, steps=8)
    random, sec = summary["teachers"]["random"], summary["teachers"]["sec"]
    assert summary["random_final"] == pytest.approx(0.25)  # mean of 0.3 and 0.2
    assert random["final_spread"] == pytest.approx(0.05) and random["steps_to_random_final"] == 8
    assert sec["final_accuracy"] == pytest.approx(0.45)
    assert sec["curve"][1]["mean"] == pytest.approx(0.25)  # step 4: mean of 0.3 and 0.2
    assert sec["steps_to_random_final"] == 4 and sec["fraction_of_random_steps"] == 0.5
    assert sec["final_per_skill"] == pytest.approx({"a": 0.5, "b": 0.4})
    assert summary["best"] == "sec"
    table = bench_table(summary)
    assert "| sec | 0.450 | ±0.050 | 4 | 50% |" in table


def test_a_teacher_that_never_reaches_random_says_so() -> None:
    results = {"random": [_run([(0, 0.0, 0.0), (4, 0.5, 0.5)])], "irt": [_run([(0, 0.0, 0.0), (4, 0.1, 0.1)])]}
    summary = summarize(results, steps=4)
    assert summary["teachers"]["irt"]["steps_to_random_final"] is None
    assert "| irt | 0.100 | ±0.000 | not reached |  |" in bench_table(summary)
