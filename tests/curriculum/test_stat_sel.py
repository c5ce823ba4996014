"""STAT-Sel's missing-skill counting against hand-computed weights."""

from __future__ import annotations

import pytest

from coachgraph.curriculum import STATSelConfig, TaskSpace, make_teacher
from tests.curriculum.helpers import outcome

SPACE = TaskSpace.of(["a", "b", "c"])


def _batch1() -> list:
    return [
        outcome("a", [0, 0]),                       # difficult, no diagnosis: a + 1
        outcome("a", [0, 0, 1], missing=("b", "c")),  # mean 0.33 < 0.5: b + 1, c + 1
        outcome("c", [1, 1]),                       # solved: nothing
        outcome("b", [0, 1]),                       # mean 0.5 is not below 0.5: nothing
    ]


def test_counts_and_weights() -> None:
    teacher = make_teacher("stat-sel", SPACE, seed=0)
    assert teacher.weights() == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})  # all zero
    teacher.update(_batch1())
    assert teacher.counts == {"a": 1.0, "b": 1.0, "c": 1.0}
    teacher.update([outcome("b", [0], missing=("b", "zz"))])  # unknown "zz" is ignored
    # counts 1, 2, 1 -> weights 1/4, 2/4, 1/4
    assert teacher.weights() == pytest.approx({"a": 0.25, "b": 0.5, "c": 0.25})


def test_decay_and_smoothing() -> None:
    decayed = make_teacher("stat-sel", SPACE, seed=0, configs={"stat-sel": STATSelConfig(decay=0.5)})
    decayed.update(_batch1())
    decayed.update([outcome("b", [0])])
    # (1, 1, 1) * 0.5 = (0.5, 0.5, 0.5); b + 1 -> (0.5, 1.5, 0.5) / 2.5 = (0.2, 0.6, 0.2)
    assert decayed.weights() == pytest.approx({"a": 0.2, "b": 0.6, "c": 0.2})
    smooth = make_teacher("stat-sel", SPACE, seed=0, configs={"stat-sel": {"smoothing": 1.0}})
    smooth.update(_batch1())
    smooth.update([outcome("b", [0])])
    # (1, 2, 1) + 1 = (2, 3, 2) / 7
    assert smooth.weights() == pytest.approx({"a": 2 / 7, "b": 3 / 7, "c": 2 / 7})


def test_sampling_follows_the_weights() -> None:
    teacher = make_teacher("stat-sel", SPACE, seed=2)
    teacher.update([outcome("c", [0]), outcome("c", [0]), outcome("a", [0])])
    steps = teacher.sample(3000)
    share_c = sum(s.skill == "c" for s in steps) / len(steps)
    assert share_c == pytest.approx(2 / 3, abs=0.03)
    assert not any(s.skill == "b" for s in steps)
