"""`coachgraph bench tutor` at its default size: the planner needs at most 70% of the fixed
syllabus's turns, never targets a skill with an unmastered prerequisite, and the figures the
README and docs/tutoring.md quote come from this configuration."""

from __future__ import annotations

import pytest

from coachgraph.graphs.tutor.benchmark import TutorBenchConfig, bench_markdown, run_tutor_bench
from coachgraph.tasks import ArithmeticDomain

pytestmark = pytest.mark.slow


def test_the_planner_beats_the_fixed_syllabus_on_the_same_learners() -> None:
    result = run_tutor_bench(ArithmeticDomain(), TutorBenchConfig(seed=0))
    planner, syllabus, chance = (result["policies"][p] for p in ("planner", "syllabus", "random"))
    assert result["ratio"]["planner_over_syllabus"] <= 0.70
    low, high = result["ratio"]["interval95"]
    assert low < result["ratio"]["planner_over_syllabus"] < high < 0.8
    assert planner["prerequisite_violations"] == 0 and syllabus["prerequisite_violations"] > 0
    assert planner["not_mastered"] == 0 and chance["turns_to_mastery"] > syllabus["turns_to_mastery"]
    assert planner["gain_per_20_turns"] > syllabus["gain_per_20_turns"] > 0
    assert 0.5 < planner["prediction"]["auc"] < 1 and 0 < planner["prediction"]["brier"] < 0.25
    assert result["fitted"]["answers"] > 1000
    assert "planner / syllabus turns" in bench_markdown(result)
