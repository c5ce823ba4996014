"""Bayesian knowledge tracing: updates against values worked out by hand, EM fitting, and the
learner model's once-per-event updates and prerequisite evidence."""

from __future__ import annotations

import math
import random

import pytest

from coachgraph.curriculum.bkt import (
    BKTParams,
    fit_bkt,
    fit_skills,
    log_likelihood,
    observe,
    opportunities_to_mastery,
    predict_correct,
)
from coachgraph.curriculum.learner import CERTAINTY, LearnerModel, knowledge_graph

PARAMS = BKTParams(prior=0.3, learn=0.1, guess=0.2, slip=0.1)


def test_updates_match_hand_computed_values() -> None:
    # correct: posterior 0.3*0.9 / (0.27 + 0.7*0.2) = 0.27/0.41; then + (1 - posterior) * 0.1
    assert observe(0.3, True, PARAMS) == pytest.approx(0.27 / 0.41 + (1 - 0.27 / 0.41) * 0.1)
    # wrong: posterior 0.3*0.1 / (0.03 + 0.7*0.8) = 0.03/0.59
    assert observe(0.3, False, PARAMS) == pytest.approx(0.03 / 0.59 + (1 - 0.03 / 0.59) * 0.1)
    assert predict_correct(0.3, PARAMS) == pytest.approx(0.3 * 0.9 + 0.7 * 0.2)
    # a run: right, right, wrong from the prior, each step by hand
    p1 = 0.692683  # 0.658537 + 0.341463 * 0.1
    p2 = (p1 * 0.9) / (p1 * 0.9 + (1 - p1) * 0.2)
    p2 = p2 + (1 - p2) * 0.1
    p3 = (p2 * 0.1) / (p2 * 0.1 + (1 - p2) * 0.8)
    p3 = p3 + (1 - p3) * 0.1
    p = 0.3
    for correct in (True, True, False):
        p = observe(p, correct, PARAMS)
    assert p == pytest.approx(p3, abs=1e-6)


def test_forgetting_moves_a_known_learner_back() -> None:
    forgetful = PARAMS.model_copy(update={"forget": 0.05})
    # a learner surely known who answers right stays known except for forgetting
    assert observe(1.0, True, forgetful) == pytest.approx(0.95)


def test_likelihood_of_a_short_sequence_by_hand() -> None:
    # P([1, 0]) = sum over the first state: known (0.3): 0.9 * (forget 0: known) * 0.1
    #           + unknown (0.7): 0.2 * (0.1 * 0.1 + 0.9 * 0.8)
    expected = 0.3 * 0.9 * 0.1 + 0.7 * 0.2 * (0.1 * 0.1 + 0.9 * 0.8)
    assert log_likelihood([[1, 0]], PARAMS) == pytest.approx(math.log(expected))


def _generate(true: BKTParams, learners: int, answers: int, rng: random.Random) -> list[list[int]]:
    sequences = []
    for _ in range(learners):
        known, seq = rng.random() < true.prior, []
        for _ in range(answers):
            seq.append(int(rng.random() < ((1 - true.slip) if known else true.guess)))
            known = known or rng.random() < true.learn
        sequences.append(seq)
    return sequences


def test_em_recovers_the_parameters_that_generated_the_answers() -> None:
    true = BKTParams(prior=0.3, learn=0.2, guess=0.15, slip=0.08)
    sequences = _generate(true, 400, 8, random.Random(0))
    fitted = fit_bkt(sequences)
    assert fitted.prior == pytest.approx(true.prior, abs=0.06)
    assert fitted.learn == pytest.approx(true.learn, abs=0.06)
    assert fitted.guess == pytest.approx(true.guess, abs=0.06)
    assert fitted.slip == pytest.approx(true.slip, abs=0.04)
    assert log_likelihood(sequences, fitted) >= log_likelihood(sequences, true) - 1e-6
    assert log_likelihood(sequences, fitted) > log_likelihood(sequences, BKTParams())


def test_em_stays_within_the_bounds_against_degenerate_fits() -> None:
    # every learner knows the skill: the unbounded fit would put the prior at 1
    fitted = fit_bkt([[1, 1, 1, 0, 1]] * 50)
    assert fitted.prior <= 0.9 and fitted.guess <= 0.3 and fitted.slip <= 0.3 and fitted.learn <= 0.5


def test_fit_skills_keeps_the_default_where_data_are_thin() -> None:
    true = BKTParams(prior=0.5, learn=0.3, guess=0.1, slip=0.05)
    fitted = fit_skills({"rich": _generate(true, 100, 6, random.Random(1)), "thin": [[1, 0]]}, min_answers=20)
    assert fitted["thin"] == BKTParams() and fitted["rich"] != BKTParams()
    with pytest.raises(ValueError, match="no answers"):
        fit_bkt([[], []])


def test_opportunities_to_mastery() -> None:
    assert opportunities_to_mastery(0.2, BKTParams(learn=0.2), 0.95) == pytest.approx(math.log(0.05 / 0.8) / math.log(0.8))
    assert opportunities_to_mastery(0.5, BKTParams(learn=0.0), 0.95) == math.inf


def test_learner_model_applies_each_event_once_and_round_trips() -> None:
    model = LearnerModel.start("ada", "arithmetic", {"a": PARAMS, "b": PARAMS})
    once = model.observe("a", True, "s:1")
    assert once.observe("a", True, "s:1") is once and once.events == 1
    assert once.mastery["a"] == pytest.approx(0.692683, abs=1e-6)
    assert LearnerModel.model_validate(once.model_dump(mode="json")) == once
    with pytest.raises(ValueError, match="schema_version 2"):
        LearnerModel.model_validate({**once.model_dump(mode="json"), "schema_version": 2})


def test_failures_on_a_skill_put_its_prerequisite_back_in_question() -> None:
    params = {"pre": BKTParams(prior=0.999), "skill": BKTParams(prior=0.1, learn=0.4, guess=0.1, slip=0.05)}
    model = LearnerModel.start("ada", "d", params).observe("skill", False, "1", ("pre",))
    assert model.mastery["pre"] == pytest.approx(0.999)  # the first answer says nothing about learning yet
    for event in range(2, 6):
        model = model.observe("skill", False, str(event), ("pre",))
    assert model.mastery["pre"] < CERTAINTY and not model.mastered("pre")
    assert model.observe("skill", True, "7", ("pre",)).mastery["pre"] == model.mastery["pre"]


def test_knowledge_graph_carries_mastery() -> None:
    model = LearnerModel.start("ada", "d", {"a": BKTParams(prior=0.97), "b": PARAMS})
    graph = knowledge_graph(model, {"a": (), "b": ("a",)})
    assert list(graph.edges) == [("a", "b")] and graph.nodes["a"]["mastered"] and not graph.nodes["b"]["mastered"]
