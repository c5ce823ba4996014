"""Learnability sampling, p(1 - p), against hand-computed distributions."""

from __future__ import annotations

import pytest

from coachgraph.curriculum import LearnabilityTeacher, TaskSpace, make_teacher
from tests.curriculum.helpers import outcome

SPACE = TaskSpace.of(["a", "b", "c"])


def _teacher(**options: object) -> LearnabilityTeacher:
    teacher = make_teacher("learnability", SPACE, seed=0, configs={"learnability": options})
    assert isinstance(teacher, LearnabilityTeacher)
    return teacher


def test_untried_arms_are_most_learnable() -> None:
    assert _teacher().distribution() == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})


def test_proportional_to_p_times_one_minus_p() -> None:
    t = _teacher()
    t.update([outcome("a", [1, 0, 0, 0]), outcome("b", [1, 1])])
    # a: p = 0.25 -> 0.1875; b: solved -> 0; c untried: p = 0.5 -> 0.25; total 0.4375
    assert t.distribution() == pytest.approx({"a": 0.428571, "b": 0.0, "c": 0.571429}, abs=1e-6)
    picks = [s.skill for s in t.sample(3000)]
    assert "b" not in picks and picks.count("c") / 3000 == pytest.approx(0.5714, abs=0.03)


def test_moving_average_top_k_and_uniform_share() -> None:
    t = _teacher(ema_alpha=0.5, top_k=1, uniform_prob=0.3)
    t.update([outcome("a", [1, 0, 0, 0]), outcome("a", [0, 0, 0, 0])])
    # a: batch rate 1/8; p = 0.5 * 0.5 + 0.5 * 0.125 = 0.3125 -> 0.21484 < 0.25 of b and c;
    # top 1 is b (ties keep arm order); 0.7 * [0, 1, 0] + 0.1 each
    assert t.success["a"] == pytest.approx(0.3125)
    assert t.distribution() == pytest.approx({"a": 0.1, "b": 0.8, "c": 0.1})


def test_all_solved_or_failed_falls_back_to_uniform() -> None:
    t = _teacher()
    t.update([outcome("a", [1, 1]), outcome("b", [0, 0]), outcome("c", [1])])
    assert t.distribution() == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
