"""Teacher variants as text and summaries over seeds."""

from __future__ import annotations

import pytest

from coachgraph.curriculum import TaskSpace, make_teacher
from coachgraph.curriculum.compare import mean_interval, parse_variant


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
