"""The simulated student: its learning rule by hand, gating, forgetting, and a curriculum that
respects prerequisites beating random on a chain of skills."""

from __future__ import annotations

import statistics

import pytest

from coachgraph.curriculum import TaskSpace, make_teacher
from coachgraph.curriculum.simulated import LearnerConfig, SimulatedLearner, run_simulation
from coachgraph.types import CurriculumStep
from tests.curriculum.helpers import outcome

CHAIN = {"a": (), "b": ("a",), "c": ("b",), "d": ("c",)}
EXACT = {"gain_noise": 0.0, "rate_spread": 0.0}  # no noise: gains by hand


def _learner(**options: object) -> SimulatedLearner:
    return SimulatedLearner(CHAIN, LearnerConfig(**{**EXACT, **options}), seed=0)  # type: ignore[arg-type]


def test_success_probability_and_gain_by_hand() -> None:
    learner = _learner(rate=0.1, guess=0.2, initial={"a": 0.5})
    assert learner.success_probability("a") == pytest.approx(0.2 + 0.8 * 0.5)
    learner.learn([outcome("a", [1, 1, 0, 0])])
    # readiness 1 (no prerequisites), signal 0.5: c = 0.5 + 0.1 * 0.5 * (1 - 0.5) = 0.525
    assert learner.competence["a"] == pytest.approx(0.525)


def test_unready_prerequisites_leak_only() -> None:
    learner = _learner(rate=0.1, leak=0.05, ready_at=0.7, initial={"a": 0.6})
    learner.learn([outcome("b", [1, 1])])
    assert learner.competence["b"] == pytest.approx(0.1 * 0.05)  # a at 0.6 < 0.7
    learner.competence["a"] = 0.7
    learner.learn([outcome("b", [1, 1])])
    assert learner.competence["b"] == pytest.approx(0.005 + 0.1 * (1 - 0.005))


def test_contrast_signal_learns_only_from_mixed_groups() -> None:
    learner = _learner(rate=0.1, signal="contrast")
    learner.learn([outcome("a", [1, 1, 1, 1])])
    assert learner.competence["a"] == 0.0
    learner.learn([outcome("a", [1, 0, 1, 0])])
    assert learner.competence["a"] == pytest.approx(0.1)  # 4 * 0.5 * 0.5 = 1


def test_unpractised_skills_forget_their_gain() -> None:
    learner = _learner(forget=0.1, initial={"a": 0.5})
    learner.competence["a"] = 0.9
    learner.learn([outcome("b", [0])])
    assert learner.competence["a"] == pytest.approx(0.9 - 0.1 * 0.4)


def test_attempts_name_unready_prerequisites_of_failures() -> None:
    learner = _learner(guess=0.0)
    result = learner.attempt(CurriculumStep(skill="c", step=3), samples=5)
    assert result.rewards == [0.0] * 5 and result.missing_skills == ["c", "b"]
    assert result.category == "c" and result.task_id == "sim-3"


def test_bad_graphs_are_rejected() -> None:
    with pytest.raises(ValueError, match="'z' of skill 'a' is not a skill"):
        SimulatedLearner({"a": ("z",)})
    with pytest.raises(ValueError, match="cycle"):
        SimulatedLearner({"a": ("b",), "b": ("a",)})
    with pytest.raises(ValueError, match="unknown skill"):
        SimulatedLearner(CHAIN, LearnerConfig(initial={"q": 0.5}))
    with pytest.raises(ValueError, match="signal"):
        SimulatedLearner(CHAIN, LearnerConfig(signal="reward"))


def _final(spec: str, seed: int) -> float:
    teacher = make_teacher(spec, TaskSpace.of(list(CHAIN)), seed=seed,
                           configs={"prereq-gate": {"prerequisites": CHAIN}})
    history = run_simulation(teacher, SimulatedLearner(CHAIN, seed=seed), steps=60)
    assert len(history) == 61
    return statistics.fmean(history[-1].values())


def test_same_seed_same_run_and_gating_beats_random() -> None:
    assert _final("random", 0) == _final("random", 0)
    gated = [_final("prereq-gate+random", s) for s in range(8)]
    plain = [_final("random", s) for s in range(8)]
    assert statistics.fmean(gated) > statistics.fmean(plain) + 0.05, (gated, plain)
