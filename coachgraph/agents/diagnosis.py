"""Critic as diagnostician: checks a learner's answer, finds the first wrong step and names the
misconception behind a wrong answer.

Misconceptions are the criteria of a rubric skill in the library (``rubric-misconceptions`` in
the starter library): each criterion names one (``forgot-carry``, ``order-of-operations``, ...)
and says what it is. A detector registered under the same name recognises it from the problem
and the learner's number; the first criterion of the rubric whose detector fires names the
error. The library decides which misconceptions the tutor names and how it words them; without
the rubric the detectors' own descriptions are used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from coachgraph.agents.critic import judge
from coachgraph.errors import SkillError
from coachgraph.skills import Criterion, SkillLibrary, parse_criteria
from coachgraph.tasks import normalize_number
from coachgraph.types import Attempt, Task

__all__ = ["DETECTORS", "MISCONCEPTION_RUBRIC", "Diagnosis", "Expression", "diagnose", "evaluate", "mask_results",
           "misconception_criteria", "parse_expression", "register_detector"]

MISCONCEPTION_RUBRIC = "rubric-misconceptions"
"""The library rubric whose criteria name the misconceptions."""

_EXPRESSION = re.compile(r"^What is (-?\d+) ([+\-*]) (-?\d+)(?: ([+\-*]) (-?\d+))?\?$")
_RESULT = re.compile(r"(=\s*)-?\d+(?:,\d{3})*(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Expression:
    """A bare arithmetic question ``a op b`` or ``a op b op2 c``."""

    a: int
    op: str
    b: int
    op2: str | None = None
    c: int | None = None


def parse_expression(question: str) -> Expression | None:
    """The expression of a bare "What is ...?" question (None for word problems).

    >>> parse_expression("What is 2 + 6 * 8?")
    Expression(a=2, op='+', b=6, op2='*', c=8)
    >>> parse_expression("Ava has 44 coins.") is None
    True
    """
    found = _EXPRESSION.match(question.strip())
    if found is None:
        return None
    a, op, b, op2, c = found.groups()
    return Expression(int(a), op, int(b), op2, int(c) if c is not None else None)


def mask_results(step: str) -> str:
    """A reference step with the results it states hidden, to point at a step without solving it.

    >>> mask_results("9 + 5 = 14, write 4 carry 1")
    '9 + 5 = ?, write 4 carry 1'
    """
    return _RESULT.sub(lambda m: m.group(1) + "?", step)


def _digits(n: int, width: int) -> list[int]:
    return [(abs(n) // 10**i) % 10 for i in range(width)]


def _from_digits(digits: list[int]) -> int:
    return sum(d * 10**i for i, d in enumerate(digits))


def _no_carry(e: Expression) -> set[int]:
    """Column sums without carrying: every column's last digit, or the leftmost sum written whole.

    >>> sorted(_no_carry(Expression(39, "+", 85)))
    [14, 114]
    """
    if e.op != "+" or e.op2 or min(e.a, e.b) < 0:
        return set()
    width = max(len(str(e.a)), len(str(e.b)))
    sums = [x + y for x, y in zip(_digits(e.a, width), _digits(e.b, width), strict=True)]
    dropped = _from_digits([s % 10 for s in sums])
    return {dropped, dropped - (sums[-1] % 10) * 10 ** (width - 1) + sums[-1] * 10 ** (width - 1)}


def _smaller_from_larger(e: Expression) -> int | None:
    if e.op != "-" or e.op2 or min(e.a, e.b) < 0:
        return None
    width = max(len(str(e.a)), len(str(e.b)))
    return _from_digits([abs(x - y) for x, y in zip(_digits(e.a, width), _digits(e.b, width), strict=True)])


_OPS: dict[str, Callable[[int, int], int]] = {"+": lambda x, y: x + y, "-": lambda x, y: x - y,
                                               "*": lambda x, y: x * y}

Detector = Callable[[Expression, int], bool]
"""Whether a learner's (wrong) number shows the misconception on this expression."""

DETECTORS: dict[str, tuple[Detector, str]] = {}
"""Misconception name -> (detector, the description used when the library has no rubric)."""


def register_detector(name: str, description: str) -> Callable[[Detector], Detector]:
    """Decorator adding a detector to `DETECTORS` under the rubric criterion `name`."""

    def add(detector: Detector) -> Detector:
        DETECTORS[name] = (detector, description)
        return detector

    return add


@register_detector("forgot-carry", "adds each column but drops the carry into the next column")
def _forgot_carry(e: Expression, value: int) -> bool:
    return value in _no_carry(e)


@register_detector("smaller-from-larger", "subtracts the smaller digit from the larger in each column instead of borrowing")
def _no_borrow(e: Expression, value: int) -> bool:
    return _smaller_from_larger(e) == value


def evaluate(e: Expression) -> int:
    """The value of `e`, multiplication before addition and subtraction.

    >>> evaluate(Expression(2, "+", 6, "*", 8)), evaluate(Expression(9, "-", 4, "+", 1))
    (50, 6)
    """
    if e.op2 is None or e.c is None:
        return _OPS[e.op](e.a, e.b)
    if e.op2 == "*" and e.op != "*":
        return _OPS[e.op](e.a, e.b * e.c)
    return _OPS[e.op2](_OPS[e.op](e.a, e.b), e.c)


@register_detector("order-of-operations", "works left to right instead of multiplying before adding")
def _left_to_right(e: Expression, value: int) -> bool:
    if e.op2 is None or e.c is None:
        return False
    return _OPS[e.op2](_OPS[e.op](e.a, e.b), e.c) == value != evaluate(e)


@register_detector("place-value", "multiplies by a tens digit as if it were ones (a partial product not shifted)")
def _unshifted(e: Expression, value: int) -> bool:
    if e.op != "*" or e.op2 or e.b < 10:
        return False
    return value == sum(e.a * int(d) for d in str(e.b)) or value in {e.a * int(d) for d in str(e.b)}


@register_detector("wrong-operation", "uses another operation than the one asked for")
def _other_operation(e: Expression, value: int) -> bool:
    return e.op2 is None and any(f(e.a, e.b) == value for op, f in _OPS.items() if op != e.op)


@register_detector("fact-slip", "sets the problem up right but slips on a basic fact (off by a little)")
def _fact_slip(e: Expression, value: int) -> bool:
    right = evaluate(e)
    one_digit = len(str(right)) == len(str(value)) and sum(x != y for x, y in zip(str(right), str(value), strict=True)) == 1
    return 0 < abs(right - value) <= 2 or one_digit


def misconception_criteria(library: SkillLibrary | None, rubric: str = MISCONCEPTION_RUBRIC) -> list[Criterion]:
    """The misconceptions the library's rubric names (the built-in ones without it)."""
    if library is not None and rubric in library.names():
        try:
            return parse_criteria(library.get(rubric))
        except SkillError:
            pass
    return [Criterion(name=name, weight=1.0, text=text) for name, (_, text) in DETECTORS.items()]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The critic's reading of one answer."""

    correct: bool
    extracted: str | None
    """The learner's final number, normalised (None when they gave none)."""
    first_wrong_step: int | None
    """0-based index of the first reference step the learner's work does not show."""
    step: str
    """That step with its results hidden (empty when none)."""
    misconception: str | None = None
    """The rubric criterion that names the error, when one is recognised."""
    description: str = ""
    """What the criterion says."""
    rubric: str | None = None
    """The library rubric the name comes from (None: the built-in descriptions)."""

    def as_json(self) -> dict[str, Any]:
        """The diagnosis as graph state holds it."""
        return asdict(self)


def _named(task: Task, extracted: str | None, criteria: list[Criterion]) -> Criterion | None:
    expression = parse_expression(task.question)
    value = normalize_number(extracted) if extracted is not None else None
    if expression is None or value is None or not value.lstrip("-").isdigit():
        return None
    for criterion in criteria:
        detector = DETECTORS.get(criterion.name)
        if detector is not None and detector[0](expression, int(value)):
            return criterion
    return None


def diagnose(task: Task, text: str, library: SkillLibrary | None = None) -> Diagnosis:
    """Check `text` against `task`, find the first wrong step and name the misconception."""
    graded, verdict = judge(task, Attempt(task_id=task.id, text=text))
    step = verdict.first_wrong_step
    shown = mask_results(task.steps[step]) if step is not None and task.steps else ""
    if verdict.correct:
        return Diagnosis(True, graded.extracted, None, "")
    criteria = misconception_criteria(library)
    named = _named(task, graded.extracted, criteria)
    rubric = MISCONCEPTION_RUBRIC if library is not None and MISCONCEPTION_RUBRIC in library.names() else None
    return Diagnosis(False, graded.extracted, step, shown, named.name if named else None,
                     named.text if named else "", rubric if named else None)
