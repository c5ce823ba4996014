"""The learning-progress bandit's averages, reweighting and distribution by hand."""

from __future__ import annotations

import pytest

from coachgraph.curriculum import LearningProgressTeacher, TaskSpace, make_teacher
from tests.curriculum.helpers import outcome

SPACE = TaskSpace.of(["a", "b"])


def _lp(**options: object) -> LearningProgressTeacher:
    teacher = make_teacher("learning-progress", SPACE, seed=0,
                           configs={"learning-progress": options})
    assert isinstance(teacher, LearningProgressTeacher)
    return teacher


def test_averages_and_progress_by_hand() -> None:
    lp = _lp()
    lp.update([outcome("a", [1, 0, 0, 0]), outcome("b", [0, 0])])
    # first rates are the baselines: a 0.25, b 0; normalised p = 0 for both
    assert lp.baseline == {"a": 0.25, "b": 0.0}
    assert (lp.fast["a"], lp.slow["a"], lp.true["a"]) == (0.0, 0.0, 0.25)
    # no progress yet, but a has had successes and b none: a takes the non-uniform share
    assert lp.distribution() == pytest.approx({"a": 0.875, "b": 0.125})
    lp.update([outcome("a", [1, 1, 0, 0])])
    # a: rate 0.5, p = (0.5 - 0.25) / 0.75 = 1/3; fast = 0.1/3 = 0.033333;
    # slow = 0.1 * 0.033333 = 0.0033333; true = 0.1 * 0.5 + 0.9 * 0.25 = 0.275
    assert lp.fast["a"] == pytest.approx(1 / 30)
    assert lp.slow["a"] == pytest.approx(1 / 300)
    assert lp.true["a"] == pytest.approx(0.275)
    # r(1/30) = 0.03 / 0.126667 = 0.236842; r(1/300) = 0.003 / 0.102667 = 0.029221
    assert lp.progress()["a"] == pytest.approx(0.207621, abs=1e-6)
    assert lp.fast["b"] == 0.0  # no episode of b: its averages stay
    # only a has progress or success: sigmoid-z of one value is all of the mass,
    # then 0.75 * [1, 0] + 0.25 * [0.5, 0.5]
    assert lp.distribution() == pytest.approx({"a": 0.875, "b": 0.125})


def test_baseline_is_capped_and_normalisation_optional() -> None:
    lp = _lp()
    lp.update([outcome("a", [1, 1, 1, 1])])
    assert lp.baseline["a"] == 0.75 and lp.fast["a"] == 1.0  # (1 - 0.75) / (1 - 0.75)
    raw = _lp(normalize_success=False)
    raw.update([outcome("a", [1, 0, 0, 0])])
    assert raw.fast["a"] == 0.25


def test_interval_counts_episodes() -> None:
    lp = _lp(interval=3)
    lp.update([outcome("a", [1, 0]), outcome("a", [1, 1])])
    assert lp.baseline == {}  # two episodes: the interval is not over
    lp.update([outcome("b", [0, 0])])
    # a: 3 of 4 samples -> 0.75; b: 0
    assert lp.baseline == {"a": 0.75, "b": 0.0}


def test_sampling_follows_the_distribution() -> None:
    lp = _lp()
    lp.update([outcome("a", [1, 0, 0, 0]), outcome("b", [0, 0])])
    lp.update([outcome("a", [1, 1, 0, 0])])
    picks = [s.skill for s in lp.sample(4000)]
    assert picks.count("a") / len(picks) == pytest.approx(0.875, abs=0.02)
