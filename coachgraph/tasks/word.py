"""Multi-step word problems with reference intermediate steps.

Each problem picks one of a few story forms; the form, the name and the object are slot values
too, so a drawn problem stays a plain mapping of integers that a chain can substitute into.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from coachgraph.tasks.problems import Family, Solution, Values, register_family

__all__ = ["NAMES", "OBJECTS", "WORD_FAMILY"]

NAMES: tuple[str, ...] = ("Sam", "Mia", "Leo", "Ava", "Noah", "Zoe", "Omar", "Lena")
"""Names a story may use."""
OBJECTS: tuple[str, ...] = ("apples", "marbles", "stickers", "books", "coins", "pencils")
"""Countable objects a story may use."""

Story = tuple[str, Callable[[Values], Solution]]


def _buy_packs(v: Values) -> Solution:
    bc = v["b"] * v["c"]
    return v["a"] + bc, [f"{v['b']} * {v['c']} = {bc}", f"{v['a']} + {bc} = {v['a'] + bc}"]


def _give_then_get(v: Values) -> Solution:
    left = v["a"] - v["b"]
    return left + v["c"], [f"{v['a']} - {v['b']} = {left}", f"{left} + {v['c']} = {left + v['c']}"]


def _get_then_lose(v: Values) -> Solution:
    more = v["a"] + v["b"]
    return more - v["c"], [f"{v['a']} + {v['b']} = {more}", f"{more} - {v['c']} = {more - v['c']}"]


_STORIES: tuple[Story, ...] = (
    ("{n} has {a} {o}. {n} buys {b} bags with {c} {o} in each bag. "
     "How many {o} does {n} have now?", _buy_packs),
    ("{n} had {a} {o} and gave {b} of them to a friend. Later {n} found {c} more {o}. "
     "How many {o} does {n} have now?", _give_then_get),
    ("{n} has {a} {o}. A friend gives {n} {b} more {o}, and then {n} loses {c} {o}. "
     "How many {o} does {n} have left?", _get_then_lose),
)


def _draw(rng: random.Random) -> Values:
    """Values kept small and non-negative so every intermediate is a whole count."""
    form = rng.randrange(len(_STORIES))
    a, b, c = rng.randint(12, 60), rng.randint(2, 9), rng.randint(2, 9)
    if form == 1:
        b = rng.randint(2, a - 1)
        c = rng.randint(3, 30)
    elif form == 2:
        b = rng.randint(5, 40)
        c = rng.randint(2, a + b - 1)
    return {"a": a, "b": b, "c": c, "form": form,
            "name": rng.randrange(len(NAMES)), "object": rng.randrange(len(OBJECTS))}


def _render(shown: Mapping[str, str], v: Values) -> str:
    text = _STORIES[v["form"]][0]
    return text.format(n=NAMES[v["name"]], o=OBJECTS[v["object"]],
                       a=shown["a"], b=shown["b"], c=shown["c"])


def _solve(v: Values) -> Solution:
    return _STORIES[v["form"]][1](v)


WORD_FAMILY = register_family(Family(
    "word-2step", "word", {"digits": 2, "operations": 2, "steps": 2}, _draw, _render, _solve,
))
"""Two-step word problems (multiply-then-add, subtract-then-add, add-then-subtract)."""
