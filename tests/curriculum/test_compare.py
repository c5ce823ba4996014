"""Teacher variants as text and summaries over seeds."""

from __future__ import annotations

import pytest

from coachgraph.curriculum import TaskSpace, make_teacher
from coachgraph.curriculum.compare import mean_interval, paired_interval, parse_variant


def test_variant_options_reach_the_base_teacher() -> None:
    v = parse_variant("prereq-gate+alp-bins:bins=6:power=2.5")
    assert v.base == "alp-bins" and v.configs == {"alp-bins": {"bins": 6, "power": 2.5}}
    assert v.settings()["bins"] == 6 and v.settings()["window"] == 10
    teacher = make_teacher(v.spec, TaskSpace.of(["a"]), configs=v.configs)
    assert teacher.base.config.bins == 6  # type: ignore[attr-defined]


def test_bad_variants() -> None:
    with pytest.raises(ValueError, match="FIELD=VALUE"):
        parse_variant("sec:alpha")
    with pytest.raises(ValueError, match="unknown teacher 'bandit'"):
        parse_variant("bandit")


def test_interval_of_one_value_is_the_value() -> None:
    assert mean_interval([0.4]) == (0.4, 0.4, 0.4)
    mean, low, high = mean_interval([0.4, 0.6])
    # t(0.975, 1) = 12.706; sd = 0.1414; half = 12.706 * 0.1414 / 1.4142 = 1.2706
    assert (mean, low, high) == pytest.approx((0.5, 0.5 - 1.2706, 0.5 + 1.2706), abs=1e-4)


def test_paired_interval_resamples_seeds() -> None:
    # one seed all better, one all equal: a resample of both seeds from the second one (chance 1/4)
    # has mean 0, of both from the first one mean 1, so those are the 2.5% and 97.5% points
    mean, low, high = paired_interval([[1, 1, 1], [0, 0, 0]])
    assert (mean, low, high) == (0.5, 0.0, 1.0)


def test_paired_interval_resamples_problems() -> None:
    # the same pattern in every seed: only the choice of problems moves the mean
    mean, low, high = paired_interval([[1, 0, 0, 0]] * 3)
    assert mean == 0.25 and low == 0.0 and 0.5 <= high <= 0.75


def test_paired_interval_narrows_with_more_problems() -> None:
    few = paired_interval([[1, 0] * 5] * 3)
    many = paired_interval([[1, 0] * 50] * 3)
    assert few[0] == many[0] == 0.5
    assert many[2] - many[1] < (few[2] - few[1]) / 2


def test_paired_interval_refuses_an_empty_table() -> None:
    with pytest.raises(ValueError, match="seeds x problems"):
        paired_interval([])
