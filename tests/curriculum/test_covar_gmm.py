"""Covar-GMM: (task, time, reward) fits and drawing components by time-reward covariance."""

from __future__ import annotations

import numpy as np
import pytest

from coachgraph.curriculum import CovarGMMConfig, CovarGMMTeacher, TaskSpace, make_teacher
from coachgraph.curriculum.mixture import Mixture
from tests.curriculum.helpers import outcome

BOX = TaskSpace.of(box={"x": (0.0, 1.0), "y": (0.0, 1.0)})


def _teacher(seed: int = 0, **options: object) -> CovarGMMTeacher:
    cfg = CovarGMMConfig(**{"fit_rate": 40, "nb_random": 40, "random_task_ratio": 0.0,
                            **options})  # type: ignore[arg-type]
    teacher = make_teacher("covar-gmm", BOX, seed=seed, configs={"covar-gmm": cfg})
    assert isinstance(teacher, CovarGMMTeacher)
    return teacher


def _two_components(teacher: CovarGMMTeacher, cov_a: float, cov_b: float) -> None:
    def cov(c: float) -> list[list[float]]:
        m = np.eye(4) * 1e-4
        m[2, 3] = m[3, 2] = c * 1e-4 / 0.02  # correlation 0.5 * sign
        return m.tolist()
    teacher.seen = 40
    teacher.mixture = Mixture([[0.2, 0.5, 0.5, 0.5], [0.8, 0.5, 0.5, 0.5]], [cov(cov_a), cov(cov_b)])


def test_components_drawn_by_positive_covariance() -> None:
    teacher = _teacher()
    _two_components(teacher, 0.01, -0.005)
    assert teacher.progress().tolist() == pytest.approx([0.00005, 0.0])
    xs = np.array([s.difficulty["x"] for s in teacher.sample(500)])
    assert np.all(xs < 0.5)  # the component whose reward falls with time is never drawn


def test_absolute_lp_draws_by_absolute_covariance() -> None:
    teacher = _teacher(seed=1, absolute_lp=True)
    _two_components(teacher, 0.01, -0.005)
    # |0.00005| : |0.000025| = 2 : 1
    xs = np.array([s.difficulty["x"] for s in teacher.sample(3000)])
    assert np.mean(xs < 0.5) == pytest.approx(2 / 3, abs=0.03)


def test_fit_schedule_and_window() -> None:
    teacher = _teacher(window=60)
    rng = np.random.default_rng(0)
    for _ in range(39):
        teacher.update_on_episode(teacher.sample(1)[0], float(rng.random()))
    assert not len(teacher.mixture) and "warm-up" in teacher.sample(1)[0].reason
    teacher.update_on_episode(teacher.sample(1)[0], 0.5)
    first = teacher.mixture.means
    assert first and len(first[0]) == 4  # (x, y, time, reward)
    for _ in range(40):
        teacher.update_on_episode(teacher.sample(1)[0], float(rng.random()))
    assert teacher.mixture.means != first and len(teacher.history) >= 60


def test_focuses_where_reward_rises_with_time() -> None:
    teacher = _teacher(seed=3, fit_rate=120, nb_random=120)
    rng = np.random.default_rng(3)
    for i in range(120):
        x, y = rng.random(2)
        reward = i / 120 if x < 0.4 else 0.5  # reward grows with time only in x < 0.4
        teacher.update([outcome("", [reward], difficulty={"x": x, "y": y})])
    xs = np.array([s.difficulty["x"] for s in teacher.sample(1000)])
    assert np.mean(xs < 0.45) > 0.8
