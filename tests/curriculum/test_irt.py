"""IRT/PUDF: ability MAP, difficulty fit, b*, selection and the stagnation bump."""

from __future__ import annotations

import numpy as np
import pytest

from coachgraph.curriculum import IRTConfig, IRTTeacher, TaskSpace, make_teacher
from coachgraph.curriculum.irt import ability_map, fit_difficulties, target_difficulty
from tests.curriculum.helpers import outcome

SPACE = TaskSpace.of(["a", "b", "c"])


def _irt(**kw: object) -> IRTTeacher:
    teacher = make_teacher("irt", SPACE, seed=0, configs={"irt": IRTConfig(**kw)})  # type: ignore[arg-type]
    assert isinstance(teacher, IRTTeacher)
    return teacher


def test_ability_map_one_success_at_b_zero() -> None:
    # maximise log N(theta; 0, 1) + log sigmoid(theta): theta = 1 - sigmoid(theta).
    # Newton from 0: grad = 1 - 0.5 - 0 = 0.5, hess = -0.25 - 1 = -1.25 -> theta = 0.4;
    # grad = 1 - 0.59869 - 0.4 = 0.00131, hess = -0.24026 - 1 -> theta = 0.4 + 0.00106 = 0.40106.
    theta = ability_map(np.array([0.0]), np.array([1.0]), np.array([1.0]))
    assert theta == pytest.approx(0.40106, abs=1e-4)


def test_joint_fit_single_response_is_symmetric() -> None:
    # one round, one item, 1 of 1 correct, priors N(0,1) on both: theta = -b = t with
    # 2t = 2(1 - sigmoid(2t)) -> t = 0.3374 (sigmoid(0.6748) = 0.66257, 1 - 0.66257 = 0.33743).
    theta, b = fit_difficulties(np.array([[1.0]]), np.array([[1.0]]), np.array([0.0]))
    assert theta[0] == pytest.approx(0.3374, abs=1e-3)
    assert b[0] == pytest.approx(-0.3374, abs=1e-3)


def test_harder_items_get_higher_difficulty() -> None:
    s = np.array([[9.0, 5.0, 1.0], [10.0, 6.0, 2.0]])
    t = np.full_like(s, 10.0)
    _, b = fit_difficulties(s, t, np.zeros(3))
    assert b[0] < b[1] < b[2]


def test_target_difficulty() -> None:
    # b* = log(1/p - 1) + theta = log(1/0.7 - 1) + 0.5 = -0.8473 + 0.5 = -0.3473
    assert target_difficulty(0.5, 0.7) == pytest.approx(-0.3473, abs=1e-4)


def test_selection_at_or_below_ability_and_near_target() -> None:
    teacher = _irt()
    teacher.b, teacher.theta_map = np.array([-1.0, 0.2, 1.0]), 0.5
    assert teacher.selected() == ["a", "b"]  # -1 and 0.2 are <= 0.5
    teacher.theta_map = -2.0
    assert teacher.selected() == ["a"]  # none qualifies: the easiest min_items = 1
    near = _irt(target_success=0.5, min_items=1)
    near.b, near.theta_map = np.array([-1.0, 0.2, 1.0]), 0.5
    assert near.selected() == ["b"]  # b* = theta = 0.5; |0.2 - 0.5| is smallest
    assert {s.skill for s in near.sample(20)} == {"b"}


def test_stagnation_bumps_the_ability() -> None:
    # a prior scale of 1e-3 pins b at 0; every round adds 1 success in 2 trials, so the MAP
    # ability stays 0 (1 - 2*sigmoid(0) - 0 = 0): no gain after round 1 (0 <= 0) and round 2
    # -> bump 0.1; rounds 3 and 4 -> another bump: theta = 0 + 0.2.
    teacher = _irt(prior_scale=1e-3)
    thetas = []
    for _ in range(4):
        teacher.update([outcome("a", [1.0, 0.0])])
        thetas.append(round(teacher.theta, 6))
    assert thetas == [0.0, 0.1, 0.1, 0.2]
    assert abs(teacher.b[0]) < 1e-3


def test_prior_difficulty_orders_unseen_arms() -> None:
    teacher = _irt(prior_difficulty={"a": -1.0, "b": 0.0, "c": 2.0})
    assert teacher.selected() == ["a", "b"]
