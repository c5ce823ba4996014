"""Skill-tagged procedural problem families, looked up by skill name.

A family draws integer values for its named slots, renders them into a question and solves them
into a gold answer plus reference steps. Keeping values, rendering and solving apart is what lets
a chain substitute the previous answer into slot ``a`` and recompute the ground truth.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "FAMILIES",
    "Family",
    "Problem",
    "family",
    "register_family",
]

Values = dict[str, int]
Solution = tuple[int, list[str]]


@dataclass(frozen=True, slots=True)
class Family:
    """One skill's problem family."""

    skill: str
    """Skill name, unique in `FAMILIES`."""
    category: str
    """Coarse grouping for reports (addition, subtraction, multiplication, mixed, word)."""
    difficulty: Mapping[str, float]
    """Difficulty knobs of every problem of the family (digits, carries, operations, ...)."""
    draw: Callable[[random.Random], Values]
    """Draws slot values; slot ``a`` is the one a chain substitutes."""
    render: Callable[[Mapping[str, str], Values], str]
    """Question text from the shown slot strings (and the raw values for word choices)."""
    solve: Callable[[Values], Solution]
    """Gold answer and reference steps for given values."""


@dataclass(frozen=True, slots=True)
class Problem:
    """A drawn problem: its family and values, possibly with slot ``a`` shown as a name."""

    family: Family
    values: Values
    shown: dict[str, str] = field(default_factory=dict)

    @property
    def question(self) -> str:
        """The question with every slot filled (named slots keep their name)."""
        shown = {k: self.shown.get(k, str(v)) for k, v in self.values.items()}
        return self.family.render(shown, self.values)

    @property
    def solution(self) -> Solution:
        """The gold answer and reference steps, recomputed from the values."""
        return self.family.solve(self.values)


FAMILIES: dict[str, Family] = {}
"""Registered families keyed by skill name, in registration (easy to hard) order."""


def register_family(fam: Family) -> Family:
    """Add `fam` to `FAMILIES`; a skill name may be registered once."""
    if fam.skill in FAMILIES:
        raise ValueError(f"skill {fam.skill!r} is already registered")
    FAMILIES[fam.skill] = fam
    return fam


def family(skill: str) -> Family:
    """The family of `skill`, with the known names in the error when there is none."""
    try:
        return FAMILIES[skill]
    except KeyError:
        raise KeyError(f"unknown skill {skill!r}; known: {', '.join(FAMILIES)}") from None


def _binary(symbol: str) -> Callable[[Mapping[str, str], Values], str]:
    return lambda s, _v: f"What is {s['a']} {symbol} {s['b']}?"


def _column_add(a: int, b: int) -> Solution:
    """Column addition steps, units first, naming each carry."""
    if a < 0 or b < 0:
        return a + b, [f"{a} + {b} = {a + b}"]
    steps, carry, x, y = [], 0, a, b
    while x or y:
        dx, dy = x % 10, y % 10
        s = dx + dy + carry
        extra = f" + {carry}" if carry else ""
        steps.append(f"{dx} + {dy}{extra} = {s}" + (f", write {s % 10} carry 1" if s >= 10 else ""))
        carry, x, y = s // 10, x // 10, y // 10
    steps.append(f"{a} + {b} = {a + b}")
    return a + b, steps


def _column_sub(a: int, b: int) -> Solution:
    """Column subtraction steps, units first, naming each borrow."""
    if not 0 <= b <= a:
        return a - b, [f"{a} - {b} = {a - b}"]
    steps, borrow, x, y = [], 0, a, b
    while y or borrow:
        dx, dy = x % 10 - borrow, y % 10
        borrow = 1 if dx < dy else 0
        top = dx + 10 * borrow
        steps.append(f"{top} - {dy} = {top - dy}" + (", borrow 1" if borrow else ""))
        x, y = x // 10, y // 10
    steps.append(f"{a} - {b} = {a - b}")
    return a - b, steps


def _long_mul(a: int, b: int) -> Solution:
    """Multiply by each non-zero digit of `b` (with its place value) and add the partials."""
    if not 10 <= b:
        return a * b, [f"{a} * {b} = {a * b}"]
    places = [int(d) * 10**i for i, d in enumerate(reversed(str(b))) if d != "0"]
    steps = [f"{a} * {m} = {a * m}" for m in places]
    steps.append(f"{' + '.join(str(a * m) for m in places)} = {a * b}")
    return a * b, steps


def _digits_pair(rng: random.Random, lo: int, hi: int, ok: Callable[[int, int], bool]) -> Values:
    while True:
        a, b = rng.randint(lo, hi), rng.randint(lo, hi)
        if ok(a, b):
            return {"a": a, "b": b}


def _carries(a: int, b: int) -> bool:
    return any((a // 10**i) % 10 + (b // 10**i) % 10 >= 10 for i in range(3))


def _borrows(a: int, b: int) -> bool:
    return any((a // 10**i) % 10 < (b // 10**i) % 10 for i in range(3))


_ADD, _SUB, _MUL = _binary("+"), _binary("-"), _binary("*")

register_family(Family(
    "add-1d", "addition", {"digits": 1, "carries": 0, "operations": 1},
    lambda r: {"a": r.randint(0, 9), "b": r.randint(0, 9)},
    _ADD, lambda v: (v["a"] + v["b"], [f"{v['a']} + {v['b']} = {v['a'] + v['b']}"]),
))
register_family(Family(
    "sub-1d", "subtraction", {"digits": 1, "borrows": 0, "operations": 1},
    lambda r: (lambda b, c: {"a": b + c, "b": b})(r.randint(0, 9), r.randint(0, 9)),
    _SUB, lambda v: (v["a"] - v["b"], [f"{v['a']} - {v['b']} = {v['a'] - v['b']}"]),
))
register_family(Family(
    "mul-1d", "multiplication", {"digits": 1, "operations": 1},
    lambda r: {"a": r.randint(0, 9), "b": r.randint(0, 9)},
    _MUL, lambda v: _long_mul(v["a"], v["b"]),
))
register_family(Family(
    "add-2d", "addition", {"digits": 2, "carries": 0, "operations": 1},
    lambda r: _digits_pair(r, 10, 99, lambda a, b: not _carries(a, b)),
    _ADD, lambda v: _column_add(v["a"], v["b"]),
))
register_family(Family(
    "sub-2d", "subtraction", {"digits": 2, "borrows": 0, "operations": 1},
    lambda r: _digits_pair(r, 10, 99, lambda a, b: a > b and not _borrows(a, b)),
    _SUB, lambda v: _column_sub(v["a"], v["b"]),
))
register_family(Family(
    "add-2d-carry", "addition", {"digits": 2, "carries": 1, "operations": 1},
    lambda r: _digits_pair(r, 10, 99, lambda a, b: (a % 10) + (b % 10) >= 10),
    _ADD, lambda v: _column_add(v["a"], v["b"]),
))
register_family(Family(
    "sub-2d-borrow", "subtraction", {"digits": 2, "borrows": 1, "operations": 1},
    lambda r: _digits_pair(r, 10, 99, lambda a, b: a > b and (a % 10) < (b % 10)),
    _SUB, lambda v: _column_sub(v["a"], v["b"]),
))
register_family(Family(
    "add-3d", "addition", {"digits": 3, "carries": 1, "operations": 1},
    lambda r: _digits_pair(r, 100, 999, _carries),
    _ADD, lambda v: _column_add(v["a"], v["b"]),
))
register_family(Family(
    "mul-2x1", "multiplication", {"digits": 2, "operations": 1},
    lambda r: {"a": r.randint(10, 99), "b": r.randint(2, 9)},
    _MUL, lambda v: _long_mul(v["a"], v["b"]),
))
register_family(Family(
    "order-ops", "mixed", {"digits": 1, "operations": 2},
    lambda r: {"a": r.randint(1, 20), "b": r.randint(2, 9), "c": r.randint(2, 9)},
    lambda s, _v: f"What is {s['a']} + {s['b']} * {s['c']}?",
    lambda v: (v["a"] + v["b"] * v["c"], [
        f"{v['b']} * {v['c']} = {v['b'] * v['c']}",
        f"{v['a']} + {v['b'] * v['c']} = {v['a'] + v['b'] * v['c']}",
    ]),
))
register_family(Family(
    "mul-2x2", "multiplication", {"digits": 2, "operations": 3},
    lambda r: {"a": r.randint(10, 99), "b": r.randint(11, 99)},
    _MUL, lambda v: _long_mul(v["a"], v["b"]),
))
