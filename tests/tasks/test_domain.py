"""Held-out sets are fixed and disjoint from training draws; chains recompute ground truth."""

from __future__ import annotations

import random
from collections.abc import Sequence

from coachgraph.tasks import ArithmeticDomain, DomainConfig, check_answer
from coachgraph.tasks.evaluate import heldout_accuracy
from coachgraph.types import CurriculumStep, Task


def test_heldout_is_fixed_and_disjoint_from_training() -> None:
    first, second = ArithmeticDomain(), ArithmeticDomain()
    rng = random.Random(0)
    for skill in first.skills:
        held = first.heldout(skill)
        assert [t.question for t in held] == [t.question for t in second.heldout(skill)]
        assert len({t.question for t in held}) == len(held) == 50
        questions = {t.question for t in held}
        assert all(first.draw(skill, rng).question not in questions for _ in range(100))


def test_small_skills_keep_half_their_problems_for_training() -> None:
    domain = ArithmeticDomain(DomainConfig(heldout_size=80))
    held = {t.question for t in domain.heldout("mul-1d")}  # 100 distinct problems in all
    assert len(held) == 50
    assert domain.draw("mul-1d", random.Random(0)).question not in held


def test_training_draws_follow_the_seed() -> None:
    domain = ArithmeticDomain()
    a = [domain.draw("add-3d", random.Random(5)).question for _ in range(3)]
    b = [domain.draw("add-3d", random.Random(5)).question for _ in range(3)]
    assert a == b


def test_chain_substitutes_previous_answers() -> None:
    task = ArithmeticDomain().draw("add-1d", random.Random(1), horizon=3)
    lines = task.question.splitlines()
    assert task.horizon == 3 and len(lines) == 4
    assert "Let X1 be the answer to Problem 1" in lines[1]
    assert "X2" in lines[2] and lines[3] == "Give the answer to Problem 3."
    # the last line of steps is "X2 + b = answer" with X2 recomputed from problem 2
    x2 = int(task.steps[-1].split(" + ")[0])
    b = int(lines[2].split("+ ")[1].rstrip("?"))
    assert int(task.answer) == x2 + b
    assert check_answer(task, f"#### {task.answer}")[1]


def test_task_for_maps_levels_and_keeps_the_sampled_point() -> None:
    domain = ArithmeticDomain()
    step = CurriculumStep(difficulty={"level": 5.5}, format="choice4")
    task = domain.task_for(step, random.Random(0))
    assert task.skill == "add-2d-carry" and task.format == "choice4"
    assert task.difficulty["level"] == 5.5 and task.difficulty["carries"] == 1
    assert domain.box() == {"level": (0.0, 12.0)}


def test_heldout_accuracy_scores_every_skill() -> None:
    domain = ArithmeticDomain()

    def half_right(tasks: Sequence[Task]) -> list[str]:
        return [t.answer if i % 2 == 0 else "-1" for i, t in enumerate(tasks)]

    scores = heldout_accuracy(domain, half_right, ["add-1d", "word-2step"])
    assert scores == {"add-1d": 0.5, "word-2step": 0.5}
