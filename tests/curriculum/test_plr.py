"""PLR's scores, rank and staleness mixture and replay schedule against hand-computed values."""

from __future__ import annotations

from collections import Counter

import pytest

from coachgraph.curriculum import PLRTeacher, TaskSpace, make_teacher
from coachgraph.types import Outcome
from tests.curriculum.helpers import outcome

SPACE = TaskSpace.of(["a", "b", "c"])


def _plr(seed: int = 0, **options: object) -> PLRTeacher:
    teacher = make_teacher("plr", SPACE, seed=seed, configs={"plr": options})
    assert isinstance(teacher, PLRTeacher)
    return teacher


def test_scores_are_the_l1_value_loss() -> None:
    plr = _plr()
    # a: mean 0.25, |r - 0.25| = 0.75, 0.25, 0.25, 0.25 -> 0.375; b: mean 0.5 -> 0.5; c: flat -> 0
    plr.update([outcome("a", [1, 0, 0, 0]), outcome("b", [1, 1, 0, 0]), outcome("c", [1, 1, 1, 1])])
    assert plr.scores == pytest.approx({"a": 0.375, "b": 0.5, "c": 0.0})
    # the trainer's advantages replace reward minus mean when given
    plr.update([Outcome(task_id="t", skill="a", category="a", rewards=[1.0, 0.0],
                        advantages=[0.9, -0.3])])
    assert plr.scores["a"] == pytest.approx(0.6)


def test_moving_average_of_batch_means() -> None:
    plr = _plr(alpha=0.5)
    plr.update([outcome("a", [1, 0])])  # 0.5 * 0 + 0.5 * 0.5 = 0.25
    # batch mean of a's two outcomes: (0.375 + 0) / 2 = 0.1875; 0.5 * 0.25 + 0.5 * 0.1875
    plr.update([outcome("a", [1, 0, 0, 0]), outcome("a", [0, 0])])
    assert plr.scores["a"] == pytest.approx(0.21875)


def test_rank_prioritisation_mixed_with_staleness() -> None:
    plr = _plr()
    plr.update([outcome("a", [1, 0, 0, 0]), outcome("b", [1, 1, 0, 0]), outcome("c", [1, 1, 1, 1])])
    plr.staleness = {"a": 3.0, "b": 1.0, "c": 0.0}
    # ranks b=1, a=2, c=3; h = rank^(-1/0.1): 1, 2^-10, 3^-10, normalised: 0.999008, 0.000976,
    # 0.0000169; staleness 3, 1, 0 over 4: 0.75, 0.25, 0.
    # P = 0.9 * P_score + 0.1 * P_stale: a 0.075878, b 0.924107, c 0.0000152
    dist = plr.replay_distribution()
    assert dist["a"] == pytest.approx(0.0758780, abs=1e-6)
    assert dist["b"] == pytest.approx(0.9241067, abs=1e-6)
    assert dist["c"] == pytest.approx(0.0000152, abs=1e-7)


def test_staleness_counts_draws_since_an_arm_was_last_drawn() -> None:
    plr = _plr()
    step = plr.sample(1)[0]
    others = [a for a in SPACE.arms if a != step.skill]
    assert plr.staleness[step.skill] == 0.0 and all(plr.staleness[a] == 1.0 for a in others)


def test_unseen_arms_first_then_replay_only_seen_ones() -> None:
    plr = _plr(seed=2)
    assert all(s.reason == "plr: unseen arm" for s in plr.sample(8))  # rho = 1: none seen yet
    plr.update([outcome("a", [1, 0]), outcome("b", [1, 0])])
    assert {s.skill for s in plr.sample(20)} == {"c"}  # until every arm is seen, only unseen ones
    plr.update([outcome(a, [1, 0]) for a in SPACE.arms])
    assert all(s.reason.startswith("plr: replay") for s in plr.sample(20))


def test_proportionate_schedule_replays_with_the_seen_share() -> None:
    plr = _plr(seed=3, rho=0.3, staleness_coef=0.0)
    plr.update([outcome("b", [1, 0])])  # one of three arms seen: replay with probability 1/3
    picks = Counter(s.skill for s in plr.sample(3000))
    assert picks["b"] / 3000 == pytest.approx(1 / 3, abs=0.03)


def test_fixed_schedule_draws_unseen_arms_with_probability_nu() -> None:
    plr = _plr(seed=4, rho=0.3, schedule="fixed", nu=0.2, staleness_coef=0.0)
    plr.update([outcome("b", [1, 0])])
    picks = Counter(s.skill for s in plr.sample(3000))
    assert picks["b"] / 3000 == pytest.approx(0.8, abs=0.03)


def test_restriction_and_bad_options() -> None:
    plr = _plr()
    plr.restrict(["c"])
    assert {s.skill for s in plr.sample(10)} == {"c"}
    with pytest.raises(ValueError, match="score_transform"):
        _plr(score_transform="cubic")
    with pytest.raises(ValueError, match="schedule"):
        _plr(schedule="eager")
    with pytest.raises(ValueError, match="discrete arms"):
        make_teacher("plr", TaskSpace.of(box={"x": (0.0, 1.0)}))
