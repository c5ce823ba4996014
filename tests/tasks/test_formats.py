"""Formats keep the gold answer and multiple choice always holds it exactly once."""

from __future__ import annotations

import random

import pytest

from coachgraph.tasks import ArithmeticDomain, check_answer
from coachgraph.tasks.answers import option_letter
from coachgraph.tasks.formats import BLANK, distractors


@pytest.mark.parametrize("fmt", ["choice4", "choice10"])
def test_choice_options_are_distinct_and_hold_the_answer(fmt: str) -> None:
    domain, rng = ArithmeticDomain(), random.Random(3)
    for skill in domain.skills:
        task = domain.draw(skill, rng, fmt)  # type: ignore[arg-type]
        assert len(set(task.options)) == len(task.options) == int(fmt[6:])
        assert task.options[task.correct_option] == task.answer
        letter = option_letter(task.correct_option)
        assert check_answer(task, f"The answer is ({letter})") == (letter, True)
        assert f"{letter}) {task.answer}" in task.question


def test_cloze_blanks_only_the_final_result() -> None:
    task = ArithmeticDomain().draw("word-2step", random.Random(0), "cloze")
    last = task.question.splitlines()[-1]
    assert last.endswith(BLANK) and task.answer not in last
    assert task.steps[0] in task.question


def test_distractors_stay_non_negative_for_small_answers() -> None:
    wrong = distractors(0, 9, random.Random(0))
    assert len(set(wrong)) == 9 and min(wrong) >= 0 and 0 not in wrong
