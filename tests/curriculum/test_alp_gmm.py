"""ALP of an episode, the fitting schedule, and sampling in proportion to mean ALP."""

from __future__ import annotations

import numpy as np
import pytest

from coachgraph.curriculum import ALPGMMConfig, ALPGMMTeacher, TaskSpace, make_teacher
from coachgraph.curriculum.alp import ALPComputer
from coachgraph.types import Outcome
from tests.curriculum.helpers import outcome

BOX = TaskSpace.of(box={"x": (0.0, 1.0), "y": (0.0, 1.0)})


def test_alp_is_zero_until_more_than_five_entries() -> None:
    alp = ALPComputer(dims=1)
    assert [alp.add([float(i)], 0.0) for i in range(6)] == [0.0] * 6
    # 7th entry: nearest earlier task to 2.1 is 2.0 with reward 0 -> ALP = |0.8 - 0| = 0.8
    assert alp.add([2.1], 0.8) == pytest.approx(0.8)
    # nearest to 2.2 is now 2.1 (reward 0.8) -> ALP = |0.5 - 0.8| = 0.3
    assert alp.add([2.2], 0.5) == pytest.approx(0.3)


def test_nearest_matches_brute_force_across_rebuilds_and_window() -> None:
    rng = np.random.default_rng(0)
    alp = ALPComputer(dims=2, min_history=0, max_size=40, rebuild_every=7)
    for _ in range(120):
        point = rng.random(2)
        if alp.tasks:
            window = np.array(alp.tasks[-40:])
            expected = len(alp.tasks) - len(window) + int(np.argmin(np.linalg.norm(window - point, axis=1)))
            assert alp.nearest(point) == expected
        alp.add(point, float(rng.random()))


def _teacher(**kw: object) -> ALPGMMTeacher:
    cfg = ALPGMMConfig(fit_rate=40, nb_random=40, random_task_ratio=0.0, **kw)  # type: ignore[arg-type]
    teacher = make_teacher("alp-gmm", BOX, seed=0, configs={"alp-gmm": cfg})
    assert isinstance(teacher, ALPGMMTeacher)
    return teacher


def test_warm_up_is_uniform_then_a_fit_every_fit_rate() -> None:
    teacher = _teacher()
    rng = np.random.default_rng(1)
    for _ in range(39):
        teacher.update_on_episode(teacher.sample(1)[0], float(rng.random()))
    assert teacher.means == [] and "warm-up" in teacher.sample(1)[0].reason
    teacher.update_on_episode(teacher.sample(1)[0], 0.5)
    first = teacher.means
    assert 2 <= len(first) <= 10 and len(first[0]) == 3  # (x, y, ALP) per component
    for _ in range(39):
        teacher.update_on_episode(teacher.sample(1)[0], float(rng.random()))
    assert teacher.means == first
    teacher.update_on_episode(teacher.sample(1)[0], 0.5)
    assert teacher.means != first


def test_components_are_drawn_in_proportion_to_mean_alp_and_clipped() -> None:
    teacher = _teacher()
    teacher.points = [[0.0, 0.0, 0.0]] * 40
    tiny = [[1e-6, 0, 0], [0, 1e-6, 0], [0, 0, 1e-6]]
    teacher.set_mixture([[0.2, 0.2, 0.3], [1.5, 0.8, 0.1]], [tiny, tiny])
    xs = np.array([s.difficulty["x"] for s in teacher.sample(4000)])
    # P(first) = 0.3 / (0.3 + 0.1) = 0.75; the second component's x = 1.5 is clipped to 1.0
    assert np.mean(xs < 0.5) == pytest.approx(0.75, abs=0.02)
    assert xs.max() == 1.0


def test_fitted_gmm_focuses_on_changing_regions() -> None:
    teacher = _teacher()
    rng = np.random.default_rng(2)
    for i in range(80):
        x, y = rng.random(2)
        # reward flips only in the strip x < 0.2, so only there is learning progress
        reward = float(i % 2) if x < 0.2 else 0.3
        teacher.update([_at(x, y, reward)])
    xs = np.array([s.difficulty["x"] for s in teacher.sample(500)])
    assert np.mean(xs < 0.3) > 0.6


def _at(x: float, y: float, reward: float) -> Outcome:
    return outcome("", [reward], difficulty={"x": x, "y": y})


def test_random_task_ratio() -> None:
    cfg = ALPGMMConfig(fit_rate=40, nb_random=40, random_task_ratio=0.2)
    teacher = make_teacher("alp-gmm", BOX, seed=3, configs={"alp-gmm": cfg})
    teacher.points = [[0.0, 0.0, 0.0]] * 40
    teacher.set_mixture([[0.5, 0.5, 1.0]], [np.eye(3).tolist()])
    share = np.mean([s.reason == "alp-gmm: uniform" for s in teacher.sample(3000)])
    assert share == pytest.approx(0.2, abs=0.025)


def test_needs_something_to_model_and_a_known_criterion() -> None:
    with pytest.raises(ValueError, match="arms or a box knob"):
        make_teacher("alp-gmm", TaskSpace.of())
    with pytest.raises(ValueError, match="not in the box"):
        make_teacher("alp-gmm", BOX, configs={"alp-gmm": {"knobs": ("z",)}})
    with pytest.raises(ValueError, match="criterion"):
        make_teacher("alp-gmm", BOX, configs={"alp-gmm": {"criterion": "dic"}})


ARMS = TaskSpace.of(["a", "b", "c", "d"], {"level": (0.0, 4.0)})


def test_arms_are_an_axis_of_the_mixture() -> None:
    cfg = ALPGMMConfig(fit_rate=40, nb_random=40, random_task_ratio=0.0, knobs=())
    teacher = make_teacher("alp-gmm", ARMS, seed=0, configs={"alp-gmm": cfg})
    rng = np.random.default_rng(4)
    for i in range(80):
        step = teacher.sample(1)[0]
        # only arm "c" keeps changing (its reward flips), every other arm is flat
        reward = float(i % 2) if step.skill == "c" else 0.5
        teacher.update_on_episode(step, reward if step.skill == "c" else reward + 0.01 * rng.random())
    assert teacher.means and len(teacher.means[0]) == 2  # (arm axis, ALP): the level knob is not modelled
    picks = [s.skill for s in teacher.sample(400)]
    assert picks.count("c") / len(picks) > 0.6
    assert all(0.0 <= s.difficulty["level"] <= 4.0 for s in teacher.sample(50))


def test_gated_arms_are_never_drawn_from_the_mixture() -> None:
    cfg = ALPGMMConfig(fit_rate=40, nb_random=40, random_task_ratio=0.0, knobs=())
    teacher = make_teacher("alp-gmm", ARMS, seed=1, configs={"alp-gmm": cfg})
    teacher.points = [[0.0, 0.0]] * 40
    teacher.set_mixture([[2.5, 1.0]], [[[1e-6, 0.0], [0.0, 1e-6]]])  # all mass on arm "c"
    teacher.restrict({"a", "b"})
    assert {s.skill for s in teacher.sample(100)} == {"b"}  # the allowed arm nearest to "c"
