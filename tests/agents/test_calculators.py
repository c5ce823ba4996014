"""The arithmetic of the pool's members: exact, safe, and wrong only where the faulty ones are meant to be."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from coachgraph.agents.calculators import (
    column_arithmetic,
    evaluate,
    evaluate_left_to_right,
    find_expression,
    parse_word_problem,
)
from coachgraph.tasks import ArithmeticDomain


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "2 ** 999999", "x + 1", "[1] * 10**9",
                                  "1" * 300, "9" * 20 + " * " + "9" * 20, "(1"])
def test_the_exact_calculator_refuses_anything_but_bounded_arithmetic(text: str) -> None:
    with pytest.raises(ValueError):
        evaluate(text)


def test_the_exact_calculator_follows_precedence_and_divides_exactly() -> None:
    assert evaluate("12 + 7 * 3") == 33
    assert evaluate("-(4 - 10) / 4") == Fraction(3, 2)
    with pytest.raises(ValueError, match="division by zero"):
        evaluate("1 / (2 - 2)")


def test_the_quick_calculator_reads_left_to_right() -> None:
    assert evaluate_left_to_right("12 + 7 * 3") == 57 != evaluate("12 + 7 * 3")
    assert evaluate_left_to_right("(12 + 7) * 3") == evaluate("(12 + 7) * 3") == 57
    assert evaluate_left_to_right("50 - 8 + 3") == evaluate("50 - 8 + 3")


def test_column_arithmetic_is_right_without_carries_and_wrong_with_them() -> None:
    assert column_arithmetic(23, "+", 45) == 68 and column_arithmetic(87, "-", 35) == 52
    assert column_arithmetic(47, "+", 38) != 85 and column_arithmetic(52, "-", 34) != 18
    assert column_arithmetic(21, "*", 3) == 63 and column_arithmetic(47, "*", 3) != 141


def test_expressions_are_found_in_prose() -> None:
    assert find_expression("Please compute (45 - 12) + 7 for me.") == "(45 - 12) + 7"
    assert find_expression("Sam has 12 apples and 3 pears.") is None


def test_the_word_parser_gets_every_skill_of_the_arithmetic_domain_right() -> None:
    domain, rng = ArithmeticDomain(), random.Random(5)
    for skill in domain.skills:
        for _ in range(30):
            task = domain.draw(skill, rng)
            expression = parse_word_problem(task.question)
            assert expression is not None and str(evaluate(expression)) == task.answer, task.question
