"""Answer extraction conventions and checking in every format."""

from __future__ import annotations

import pytest

from coachgraph.tasks import check_answer, extract_answer, normalize_number
from coachgraph.types import Task


@pytest.mark.parametrize(("text", "expected"), [
    ("Step 1: 3 * 4 = 12\n#### 12", "12"),
    ("#### 1,234", "1234"),
    ("so \\boxed{42} is it, not 7", "42"),
    ("The answer is 17.", "17"),
    ("It is -5", "-5"),
    ("It costs $3.50", "3.5"),
    ("no number here", None),
])
def test_extract_open(text: str, expected: str | None) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize(("text", "fmt", "expected"), [
    ("The answer is (B)", "choice4", "B"),
    ("C) 42", "choice4", "C"),
    ("answer: H", "choice10", "H"),
    ("answer: H", "choice4", None),
    ("The answer is a number", "choice4", None),
])
def test_extract_choice(text: str, fmt: str, expected: str | None) -> None:
    assert extract_answer(text, fmt) == expected  # type: ignore[arg-type]


def _task(**kw: object) -> Task:
    base = {"id": "t", "skill": "add-1d", "category": "add-1d", "question": "q", "answer": "12"}
    return Task(**{**base, **kw})  # type: ignore[arg-type]


def test_check_open_and_cloze() -> None:
    assert check_answer(_task(), "3 + 9 = 12") == ("12", True)
    assert check_answer(_task(format="cloze"), "12.0") == ("12", True)
    assert check_answer(_task(), "It is 13") == ("13", False)
    assert check_answer(_task(), "I do not know") == (None, False)


def test_check_choice_by_letter_or_by_number() -> None:
    task = _task(format="choice4", options=["10", "12", "13", "21"], correct_option=1)
    assert check_answer(task, "(B)") == ("B", True)
    assert check_answer(task, "The answer is A") == ("A", False)
    assert check_answer(task, "It is 12") == ("B", True)


def test_normalize_number() -> None:
    assert normalize_number("1,000.00") == "1000"
    assert normalize_number("0.25") == "0.25"
