"""Format ladder, horizon stages, prerequisite gating and goal-directed practice against hand-worked sequences."""

from __future__ import annotations

from coachgraph.curriculum import (
    GateConfig,
    GoalConfig,
    HorizonConfig,
    LadderConfig,
    TaskSpace,
    make_teacher,
)
from tests.curriculum.helpers import outcome

SPACE = TaskSpace.of(["a", "b", "c"])


def test_ladder_promotes_above_threshold_and_never_demotes() -> None:
    ladder = make_teacher("format-ladder+random", SPACE, seed=0)
    assert ladder.format_of("a") == "choice4"
    ladder.update([outcome("a", [1, 1, 0, 1], fmt="choice4")])  # mean 0.75 > 0.5: choice10
    assert ladder.format_of("a") == "choice10"
    ladder.update([outcome("a", [0, 1], fmt="choice10")])  # mean 0.5 is not above 0.5
    assert ladder.format_of("a") == "choice10"
    ladder.update([outcome("a", [1, 1], fmt="choice4")])  # an old format does not count
    assert ladder.format_of("a") == "choice10"
    ladder.update([outcome("a", [1, 1, 1, 0], fmt="choice10")])  # 0.75: cloze
    ladder.update([outcome("a", [0, 0], fmt="cloze")])  # failing never demotes
    assert ladder.format_of("a") == "cloze"
    ladder.update([outcome("a", [1], fmt="cloze")])
    ladder.update([outcome("a", [1], fmt="open")])  # already at the top
    assert ladder.format_of("a") == "open" and ladder.format_of("b") == "choice4"
    assert {s.format for s in ladder.sample(30) if s.skill == "a"} == {"open"}


def test_ladder_rolling_window() -> None:
    ladder = make_teacher("format-ladder+random", SPACE, seed=0,
                          configs={"format-ladder": LadderConfig(window=2)})
    ladder.update([outcome("b", [0, 0, 0, 1], fmt="choice4")])  # window [0.25]: no
    assert ladder.format_of("b") == "choice4"
    ladder.update([outcome("b", [1, 1], fmt="choice4")])  # window [0.25, 1.0], mean 0.625
    assert ladder.format_of("b") == "choice10" and ladder.history["b"] == []


def test_horizon_rises_when_pass_rate_crosses_threshold() -> None:
    cfg = HorizonConfig(threshold=0.5, window=4, min_outcomes=3, max_horizon=3)
    stages = make_teacher("h1-chain+random", SPACE, seed=0, configs={"h1-chain": cfg})
    stages.update([outcome("a", [0]), outcome("a", [1])])  # 2 < min_outcomes
    assert stages.horizon == 1
    stages.update([outcome("a", [1])])  # [0, 1, 1]: 0.667 >= 0.5
    assert stages.horizon == 2 and stages.sample(1)[0].horizon == 2
    stages.update([outcome("a", [1], horizon=1)] * 3)  # other horizons are ignored
    stages.update([outcome("a", [0], horizon=2), outcome("a", [0], horizon=2),
                   outcome("a", [1], horizon=2)])  # 0.333: no
    assert stages.horizon == 2
    stages.update([outcome("a", [1], horizon=2)] * 2)  # last 4: [0, 1, 1, 1] = 0.75
    assert stages.horizon == 3
    stages.update([outcome("a", [1], horizon=3)] * 5)
    assert stages.horizon == 3  # max_horizon


def test_gate_opens_skills_as_prerequisites_are_mastered() -> None:
    cfg = GateConfig(prerequisites={"b": ("a",), "c": ("b",)}, threshold=0.8, window=4,
                     min_outcomes=3)
    gate = make_teacher("prereq-gate+random", SPACE, seed=0, configs={"prereq-gate": cfg})
    assert gate.unlocked() == ["a"] and {s.skill for s in gate.sample(20)} == {"a"}
    gate.update([outcome("a", [1]), outcome("a", [1])])  # 2 < min_outcomes
    assert gate.unlocked() == ["a"]
    gate.update([outcome("a", [0.5])])  # (1 + 1 + 0.5) / 3 = 0.833 >= 0.8: a mastered
    assert gate.unlocked() == ["a", "b"]
    assert {s.skill for s in gate.sample(40)} == {"a", "b"}
    gate.update([outcome("a", [0])] * 4)  # mastery is kept
    assert "a" in gate.mastered


def test_gate_moves_choices_of_armless_bases() -> None:
    space = TaskSpace.of(["a", "b"], {"level": (0.0, 2.0)})
    cfg = GateConfig(prerequisites={"b": ("a",)})
    gate = make_teacher("prereq-gate+alp-gmm", space, seed=0, configs={"prereq-gate": cfg})
    assert {s.skill for s in gate.sample(10)} == {"a"}
    started = make_teacher("prereq-gate+random", space, seed=0,
                           configs={"prereq-gate": GateConfig(prerequisites={"b": ("a",)},
                                                              mastered=("a",))})
    assert started.unlocked() == ["a", "b"]


def test_goals_and_their_missing_prerequisites_are_practised_until_mastered() -> None:
    """Goal c needs b, which needs a; d is no goal's prerequisite. The goal is open at once,
    mastered prerequisites drop out, and once the goal is mastered it is practised alone."""
    space = TaskSpace.of(["a", "b", "c", "d"])
    cfg = GoalConfig(prerequisites={"b": ("a",), "c": ("b",)}, threshold=0.8, window=4, min_outcomes=3,
                     goals=("c",))
    goal = make_teacher("goal+random", space, seed=0, configs={"goal": cfg})
    assert goal.unlocked() == ["a", "b", "c"]
    assert {s.skill for s in goal.sample(60)} == {"a", "b", "c"}
    goal.update([outcome("a", [1]), outcome("a", [1]), outcome("a", [0.5])])  # 0.833 >= 0.8: a mastered
    assert goal.unlocked() == ["b", "c"]
    goal.update([outcome("c", [1]), outcome("c", [1]), outcome("c", [0.25])])  # 0.75 < 0.8
    assert goal.unlocked() == ["b", "c"]
    goal.update([outcome("c", [1])])  # last four: 1, 1, 0.25, 1 = 0.8125: c mastered, b no longer needed
    assert goal.unlocked() == ["c"] and {s.skill for s in goal.sample(20)} == {"c"}


def test_without_goals_every_unmastered_skill_is_open() -> None:
    goal = make_teacher("goal+sec", SPACE, seed=0, configs={"goal": GoalConfig(goals=("x",), mastered=("b",))})
    assert goal.unlocked() == ["a", "c"]
    assert {s.skill for s in goal.sample(40)} == {"a", "c"}
