"""ALP-bins: cells of the task space, ALP per cell by hand, and drawing cells by ALP."""

from __future__ import annotations

import numpy as np
import pytest

from coachgraph.curriculum import ALPBinsTeacher, TaskSpace, make_teacher
from tests.curriculum.helpers import outcome

BOX = TaskSpace.of(box={"x": (0.0, 1.0), "y": (0.0, 1.0)})


def _teacher(space: TaskSpace = BOX, seed: int = 0, **options: object) -> ALPBinsTeacher:
    teacher = make_teacher("alp-bins", space, seed=seed,
                           configs={"alp-bins": {"bins": 4, "window": 4, **options}})
    assert isinstance(teacher, ALPBinsTeacher)
    return teacher


def _at(teacher: ALPBinsTeacher, x: float, y: float, rewards: list[float]) -> None:
    for r in rewards:
        teacher.update([outcome("", [r], difficulty={"x": x, "y": y})])


def test_cells_of_points() -> None:
    teacher = _teacher()
    assert teacher.cell_of(np.array([0.3, 0.9])) == 1 * 4 + 3
    assert teacher.cell_of(np.array([1.0, 1.0])) == 15  # the upper faces belong to the last cell


def test_alp_of_a_cell_over_its_window() -> None:
    teacher = _teacher()
    _at(teacher, 0.1, 0.1, [0.9, 0.0, 0.1, 0.2, 0.3])  # window 4 keeps [0, 0.1, 0.2, 0.3]
    # |mean(0, 0.1) - mean(0.2, 0.3)| = 0.2
    assert teacher.alp[0] == pytest.approx(0.2)
    assert teacher.rewards[0] == [0.0, 0.1, 0.2, 0.3]
    _at(teacher, 0.1, 0.1, [0.3, 0.3])  # [0.2, 0.3, 0.3, 0.3]: 0.25 vs 0.3
    assert teacher.alp[0] == pytest.approx(0.05)


def test_cells_drawn_in_proportion_to_alp_inside_their_box() -> None:
    teacher = _teacher(seed=1, random_task_ratio=0.0)
    _at(teacher, 0.1, 0.1, [0.0, 0.0, 0.3, 0.3])  # cell 0: ALP 0.3
    _at(teacher, 0.9, 0.6, [0.0, 0.0, 0.1, 0.1])  # cell (3, 2) = 14: ALP 0.1
    points = np.array([[s.difficulty["x"], s.difficulty["y"]] for s in teacher.sample(4000)])
    in_first = np.all(points < 0.25, axis=1)
    in_second = (points[:, 0] >= 0.75) & (points[:, 1] >= 0.5) & (points[:, 1] < 0.75)
    assert np.all(in_first | in_second)
    assert np.mean(in_first) == pytest.approx(0.75, abs=0.02)


def test_uniform_until_progress_and_by_ratio() -> None:
    teacher = _teacher(seed=2)
    assert teacher.sample(1)[0].reason == "alp-bins: uniform"
    _at(teacher, 0.1, 0.1, [0.0, 0.0, 0.3, 0.3])
    share = np.mean([s.reason == "alp-bins: uniform" for s in teacher.sample(3000)])
    assert share == pytest.approx(0.2, abs=0.02)


def test_arms_are_cells_and_restrictions_hold() -> None:
    space = TaskSpace.of(["a", "b", "c"])
    teacher = _teacher(space, seed=3, random_task_ratio=0.0)
    assert teacher.shape == (3,)
    for arm, rewards in (("a", [0, 0, 1, 1]), ("c", [0, 0, 0.5, 0.5])):
        for r in rewards:
            teacher.update([outcome(arm, [float(r)])])
    picks = [s.skill for s in teacher.sample(3000)]
    assert picks.count("a") / 3000 == pytest.approx(2 / 3, abs=0.03) and "b" not in picks
    teacher.restrict({"b", "c"})
    assert {s.skill for s in teacher.sample(200)} == {"c"}


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="window >= 3"):
        _teacher(window=2)
