"""The shared value types: validation, JSON round trips, outcome statistics."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from coachgraph.types import Attempt, Curriculum, CurriculumStep, Outcome, Task, Verdict


def _task(**kw: object) -> Task:
    base = {"id": "t1", "skill": "add-1d", "category": "add-1d", "question": "2+3?", "answer": "5"}
    return Task(**{**base, **kw})  # type: ignore[arg-type]


def test_task_round_trips_through_json() -> None:
    task = _task(format="choice4", options=["1", "5", "6", "7"], correct_option=1)
    assert Task.model_validate_json(task.model_dump_json()) == task


def test_task_rejects_bad_options_and_versions() -> None:
    with pytest.raises(ValidationError, match="needs 4 options"):
        _task(format="choice4", options=["1"])
    with pytest.raises(ValidationError, match="schema_version 2"):
        _task(schema_version=2)


def test_outcome_from_attempts_and_abs_advantage() -> None:
    task = _task()
    attempts = [Attempt(task_id="t1", text="5", correct=c, sample=i)
                for i, c in enumerate([True, False, False, False])]
    outcome = Outcome.from_attempts(task, attempts)
    assert outcome.rewards == [1.0, 0.0, 0.0, 0.0] and outcome.mean_reward == 0.25
    # p = 0.25, std = sqrt(0.25 * 0.75) = 0.4330; |A| = 0.75/0.433 = 1.732 once, 0.25/0.433 = 0.577
    # three times; mean = (1.732 + 3 * 0.577) / 4 = 0.866 = 2 * sqrt(p(1-p))
    assert math.isclose(outcome.mean_abs_advantage, 2 * math.sqrt(0.25 * 0.75))
    assert outcome.key == "add-1d"


def test_outcome_prefers_trainer_advantages() -> None:
    o = Outcome(task_id="t", skill="s", category="s", rewards=[1.0, 0.0], advantages=[0.5, -0.1])
    assert math.isclose(o.mean_abs_advantage, 0.3)
    with pytest.raises(ValidationError):
        Outcome(task_id="t", skill="s", category="s", rewards=[])


def test_attempts_of_another_task_are_refused() -> None:
    with pytest.raises(ValueError, match="t1"):
        Outcome.from_attempts(_task(), [Attempt(task_id="other", text="5")])


def test_curriculum_json() -> None:
    c = Curriculum(teacher="sec", seed=3, steps=[CurriculumStep(skill="a", weight=0.4, reason="r")])
    assert Curriculum.model_validate_json(c.model_dump_json()) == c


def test_verdict_names_the_first_wrong_step() -> None:
    v = Verdict(task_id="t1", correct=False, first_wrong_step=1, scores={"prm": 0.25})
    assert Verdict.model_validate_json(v.model_dump_json()) == v
    with pytest.raises(ValidationError):
        Verdict(task_id="t1", correct=False, extra_field=1)  # type: ignore[call-arg]
