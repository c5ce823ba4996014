"""SEC's TD(0) update and Boltzmann policy against hand-computed values."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from coachgraph.curriculum import SECConfig, TaskSpace, make_teacher
from tests.curriculum.helpers import outcome

SPACE = TaskSpace.of(["a", "b"])


def test_td0_update_on_mean_absolute_advantage() -> None:
    sec = make_teacher("sec", SPACE, seed=0)
    # a: [1,0,0,0] has p = 0.25, mean|A| = 2*sqrt(0.25*0.75) = 0.8660; [1,1] is flat, |A| = 0.
    # r(a) = (0.8660 + 0) / 2 = 0.4330; Q(a) = 0.1 * 0.4330 + 0.9 * 0 = 0.04330; b unseen stays 0.
    sec.update([outcome("a", [1, 0, 0, 0]), outcome("a", [1, 1])])
    assert sec.q["a"] == pytest.approx(0.04330, abs=1e-5)
    assert sec.q["b"] == 0.0
    # P(a) = e^0.0433 / (e^0.0433 + 1) = 1.04425 / 2.04425 = 0.51082
    assert sec.probabilities()["a"] == pytest.approx(0.51082, abs=1e-5)
    # a: [1,0] has p = 0.5, |A| = 1 each; Q(a) = 0.1 * 1 + 0.9 * 0.04330 = 0.13897
    sec.update([outcome("a", [1, 0])])
    assert sec.q["a"] == pytest.approx(0.13897, abs=1e-5)


def test_temperature_sharpens_the_policy() -> None:
    sec = make_teacher("sec", SPACE, seed=0, configs={"sec": SECConfig(alpha=1.0, temperature=0.5)})
    sec.update([outcome("a", [1, 0])])
    # Q(a) = 1.0 * 1 = 1; P(a) = e^(1/0.5) / (e^2 + 1) = 7.38906 / 8.38906 = 0.88080
    assert sec.probabilities()["a"] == pytest.approx(0.88080, abs=1e-5)


def test_samples_follow_the_policy_and_record_it() -> None:
    sec = make_teacher("sec", SPACE, seed=1, configs={"sec": {"alpha": 1.0}})
    sec.update([outcome("a", [1, 0])])
    p_a = math.e / (math.e + 1)  # Q(a) = 1, Q(b) = 0: 0.7311
    steps = sec.sample(4000)
    share = Counter(s.skill for s in steps)["a"] / len(steps)
    assert share == pytest.approx(p_a, abs=0.03)
    assert [s.step for s in steps[:3]] == [0, 1, 2]
    assert steps[0].reason.startswith("sec: P=")


def test_restriction_limits_the_arms() -> None:
    sec = make_teacher("sec", SPACE, seed=0)
    sec.restrict(["b"])
    assert {s.skill for s in sec.sample(20)} == {"b"}
    assert sec.probabilities() == {"b": 1.0}
