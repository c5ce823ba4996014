"""The critic of a team: checks the equations a member states without any reference, and judges a
team's outcome against the task's answer, naming the member a failure is attributed to.

Members of a team speak in turns; a turn states an answer on a ``#### <number>`` line, or an
expression that a later member computes. The team's answer is the last answer stated. A failure
is attributed as Who&When labels it (the agent whose step first went wrong): to the first member
whose claim (its answer, or the exact value of the expression it stated) differs from the task's
answer; when no member claimed anything, to the last member that raised an error, else the last
member, since the team ended without an answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from coachgraph.agents.calculators import evaluate, find_expression, format_number
from coachgraph.tasks import normalize_number
from coachgraph.types import Task

__all__ = ["ANSWER_LINE", "TeamVerdict", "Turn", "answer_line", "check_equations", "judge_team", "stated_answer"]

ANSWER_LINE = re.compile(r"####\s*(-?\d[\d,]*(?:\.\d+)?)")
_EQUATION = re.compile(r"(-?\d[\d,.]*(?:\s*[-+*/×÷]\s*\(?-?\d[\d,.]*\)?)+)\s*=\s*(-?\d[\d,]*(?:\.\d+)?)")


@dataclass(frozen=True, slots=True)
class Turn:
    """What one member said in a team run."""

    member: str
    text: str
    error: bool = False
    """The member raised an error (a timeout, a failing tool) instead of answering."""


@dataclass(frozen=True, slots=True)
class TeamVerdict:
    """The critic's judgement of one team run."""

    correct: bool
    answer: str | None
    """The team's answer (the last one stated), None when no member stated one."""
    mistake_member: str | None
    """The member the failure is attributed to (None for a correct answer)."""
    reason: str


def answer_line(value: str) -> str:
    """The line that states an answer.

    >>> answer_line("47")
    '#### 47'
    """
    return f"#### {value}"


def stated_answer(text: str) -> str | None:
    """The answer a turn states on its last ``####`` line, normalised; None without one.

    >>> stated_answer("23 + 24 = 47\\n#### 47"), stated_answer("Expression: 23 + 4 * 6") is None
    ('47', True)
    """
    found = ANSWER_LINE.findall(text)
    return normalize_number(found[-1]) if found else None


def check_equations(text: str) -> list[tuple[str, str, str]]:
    """The equations in `text` whose stated result is wrong: (left side, stated, exact).

    A reference-free check: each ``a op b = c`` is recomputed exactly.

    >>> check_equations("47 + 38 = 75, so the answer is 75")
    [('47 + 38', '75', '85')]
    >>> check_equations("6 * 7 = 42")
    []
    """
    wrong = []
    for left, stated in _EQUATION.findall(text):
        try:
            exact = format_number(evaluate(left))
        except ValueError:
            continue
        if normalize_number(stated) != exact:
            wrong.append((left.strip(), normalize_number(stated) or stated, exact))
    return wrong


def _claim(text: str) -> str | None:
    """A turn's claim: its answer, else the exact value of the expression it states."""
    answer = stated_answer(text)
    if answer is not None:
        return answer
    expression = find_expression(text)
    if expression is None:
        return None
    try:
        return format_number(evaluate(expression))
    except ValueError:
        return None


def judge_team(task: Task, turns: Sequence[Turn]) -> TeamVerdict:
    """Whether the team's answer is the task's, and which member a failure is attributed to."""
    gold = normalize_number(task.answer)
    answers = [a for a in (stated_answer(t.text) for t in turns if not t.error) if a is not None]
    final = answers[-1] if answers else None
    if final is not None and final == gold:
        return TeamVerdict(True, final, None, "correct")
    for turn in turns:
        claim = None if turn.error else _claim(turn.text)
        if claim is not None and claim != gold:
            return TeamVerdict(False, final, turn.member, f"{turn.member} claimed {claim}, expected {gold}")
    failed = [t.member for t in turns if t.error]
    blamed = failed[-1] if failed else (turns[-1].member if turns else None)
    return TeamVerdict(False, final, blamed, "no member stated an answer")
