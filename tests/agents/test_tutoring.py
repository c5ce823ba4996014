"""The tutor's roles: the critic's misconception diagnosis, the answer-leak guard (also on any
chunking of a stream), the teacher's moves with a scripted model, and simulated learners."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachgraph.agents import (
    AnswerGuard,
    diagnose,
    explain_skill,
    feedback,
    guard_text,
    hint,
    leaks_answer,
    plan_learning,
    sample_learner,
    worked_solution,
)
from coachgraph.agents.diagnosis import MISCONCEPTION_RUBRIC, mask_results
from coachgraph.curriculum.bkt import BKTParams
from coachgraph.curriculum.learner import LearnerModel
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import PREREQUISITES, ArithmeticDomain
from coachgraph.types import Task
from tests.fakes import ScriptedChatModel


def _task(question: str, answer: str, steps: list[str], skill: str = "add-2d-carry") -> Task:
    return Task(id="t", skill=skill, category=skill, question=question, answer=answer, steps=steps)


CARRY = _task("What is 39 + 85?", "124", ["9 + 5 = 14, write 4 carry 1", "3 + 8 + 1 = 12, write 2 carry 1", "39 + 85 = 124"])


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> SkillLibrary:
    lib = SkillLibrary(tmp_path_factory.mktemp("lib"), embeddings=None)
    install_starter(lib)
    return lib


@pytest.mark.parametrize(("task", "answer", "name"), [
    (CARRY, "114", "forgot-carry"),
    (CARRY, "14", "forgot-carry"),
    (_task("What is 62 - 38?", "24", [], "sub-2d-borrow"), "36", "smaller-from-larger"),
    (_task("What is 2 + 6 * 8?", "50", [], "order-ops"), "64", "order-of-operations"),
    (_task("What is 23 * 14?", "322", [], "mul-2x2"), "115", "place-value"),
    (_task("What is 7 + 5?", "12", [], "add-1d"), "35", "wrong-operation"),
    (_task("What is 7 + 5?", "12", [], "add-1d"), "13", "fact-slip"),
])
def test_misconceptions_are_named_from_the_library_rubric(library: SkillLibrary, task: Task, answer: str, name: str) -> None:
    found = diagnose(task, answer, library)
    assert not found.correct and found.misconception == name and found.rubric == MISCONCEPTION_RUBRIC
    assert found.description and found.description in library.get(MISCONCEPTION_RUBRIC).body


def test_diagnosis_of_work_and_of_a_right_answer() -> None:
    found = diagnose(CARRY, "9 + 5 = 14, 3 + 8 = 11, so 114")
    assert found.first_wrong_step == 1 and found.step == "3 + 8 + 1 = ?, write 2 carry 1"
    assert found.misconception == "forgot-carry" and found.rubric is None
    assert diagnose(CARRY, "the answer is 124").correct
    assert mask_results("44 + 10 = 54") == "44 + 10 = ?"


@pytest.mark.parametrize(("text", "leaked"), [
    ("so 39 + 85 = 124.", True), ("It is one hundred and twenty-four!", True), ("$124", True), ("1,240", False),
    ("Try 9 + 5 first.", False), ("124.5 is close", False), ("twelve and four", False),
    ("one hundred twenty-four39", True), ("one hundred39twenty-four", False), ("x124y", True),
    ("one hundred= twenty-four", True), ("one hundred, twenty-four", True), ("and twenty-four; one hundred", False),
])
def test_leak_check(text: str, leaked: bool) -> None:
    assert leaks_answer(text, "124") is leaked
    assert not leaks_answer(guard_text(text, "124").text, "124")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["So ", "39", " + 85 ", "= ", "1", "2", "4", ". ", "one hundred", " and ",
                                 "twenty", "-four", "! ", "\n", "Try again", "?", "$", "(", ")", "x", "thousand",
                                 "124", ",", "-", ".5"]), max_size=25),
       st.data())
def test_the_stream_guard_lets_no_answer_through_on_any_chunking(parts: list[str], data: st.DataObject) -> None:
    text = "".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    guard, shown = AnswerGuard("124"), []
    for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True):
        shown.append(guard.feed(text[start:end]))
    shown.append(guard.flush())
    assert "".join(shown) == guard_text(text, "124").text
    assert not leaks_answer("".join(shown), "124")


def test_a_model_hint_that_leaks_is_redacted_and_followed_by_a_guiding_question() -> None:
    model = ScriptedChatModel(answers=["Add the ones: 9 + 5 = 14, then the tens, 3 + 8 + 1, so 124."])
    pieces: list[str] = []
    written = hint(CARRY, diagnose(CARRY, "114"), 1, model=model, emit=pieces.append)
    assert "124" in written.raw and written.redactions == 1 and written.by_model
    assert not leaks_answer(written.text, "124") and "".join(pieces) == written.text
    assert "Hint:" in written.text.splitlines()[-1]
    assert "Do not give the final answer" in str(model.calls[0][-1].content)


def test_template_moves_never_state_the_open_answer(library: SkillLibrary) -> None:
    domain = ArithmeticDomain()
    found = diagnose(CARRY, "114", library)
    for level in (1, 2, 3):
        written = hint(CARRY, found, level, domain=domain, rng=random.Random(level))
        assert not written.by_model and not leaks_answer(written.text, "124")
    assert "similar problem" in hint(CARRY, found, 3, domain=domain, rng=random.Random(0)).text
    assert "forgot-carry" in feedback(CARRY, found).text
    assert not leaks_answer(explain_skill("add-2d-carry", CARRY, library=library).text, "124")
    assert "124" in worked_solution(CARRY).text and "124" in feedback(CARRY, diagnose(CARRY, "124")).text


def test_plan_of_a_new_learner_starts_at_the_roots() -> None:
    model = LearnerModel.start("ada", "arithmetic", {s: BKTParams() for s in PREREQUISITES})
    plan = plan_learning(model, PREREQUISITES, ["add-2d-carry"])
    assert plan["next"] == "add-1d" and plan["order"] == ["add-1d", "add-2d", "add-2d-carry"] and not plan["review"]
    done = model
    for i, skill in enumerate(["add-1d", "add-2d", "add-2d-carry"] * 4):
        done = done.observe(skill, True, str(i))
    assert plan_learning(done, PREREQUISITES, ["add-2d-carry"])["review"]
    doubted = done.model_copy(update={"skills": {**done.skills, "add-2d": done.skills["add-2d"].model_copy(
        update={"mastery": 0.5})}})
    review = plan_learning(doubted, PREREQUISITES, ["add-2d-carry"])
    assert review["review"] and review["next"] == "add-2d"  # not the target: its prerequisite is in question


def test_parametric_learners_are_reproducible_and_learn_only_when_ready() -> None:
    a, b = sample_learner(PREREQUISITES, seed=3), sample_learner(PREREQUISITES, seed=3)
    assert a.known == b.known and a.profiles == b.profiles
    domain, rng = ArithmeticDomain(), random.Random(0)
    task = domain.draw("add-2d", rng)
    assert [a.answer(task) for _ in range(20)] == [b.answer(task) for _ in range(20)]
    learner = sample_learner(PREREQUISITES, seed=1)
    learner.known.clear()
    for _ in range(30):
        learner.practise("add-2d")
        learner.take_hint("add-2d")
    blocked = "add-2d" not in learner.known
    for _ in range(200):
        learner.practise("add-1d")
        learner.practise("add-2d")
    assert "add-1d" in learner.known and "add-2d" in learner.known
    assert blocked or learner.leak > 0


def test_starter_rubric_lists_every_detector(tmp_path: Path) -> None:
    from coachgraph.agents.diagnosis import DETECTORS, misconception_criteria

    lib = SkillLibrary(tmp_path / "lib", embeddings=None)
    install_starter(lib)
    assert [c.name for c in misconception_criteria(lib)] == list(DETECTORS)
    assert [c.name for c in misconception_criteria(None)] == list(DETECTORS)
