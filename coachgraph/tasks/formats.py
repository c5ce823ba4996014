"""Task formats of the Cog-DRIFT ladder: multiple choice (4 or 10 options), cloze, open.

All formats keep the gold answer. Cloze shows the reference steps with the final result blanked,
which is the same problem with scaffolding; multiple choice draws distractors near the answer
and among the usual slips (off by one, a dropped carry, swapped digits).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from coachgraph.tasks.answers import option_letter
from coachgraph.types import TaskFormat

__all__ = ["BLANK", "Rendered", "distractors", "format_instruction", "render"]

BLANK = "___"
"""The gap a cloze task asks to fill."""

_OFFSETS = (1, -1, 2, -2, 10, -10, 9, -9, 11, -11, 3, -3, 20, -20, 5, -5, 100, -100)

_INSTRUCTIONS: dict[TaskFormat, str] = {
    "open": "Give only the final number.",
    "cloze": f"Fill in the blank ({BLANK}). Give only the missing number.",
    "choice4": "Answer with the letter of the correct option.",
    "choice10": "Answer with the letter of the correct option.",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A question in one format, with its options when it is multiple choice."""

    question: str
    """The text shown to the student (options included)."""
    options: tuple[str, ...] = ()
    """Option texts, in letter order."""
    correct_option: int | None = None
    """Index of the option holding the gold answer."""


Renderer = Callable[[str, int, list[str], random.Random], Rendered]


def format_instruction(fmt: TaskFormat) -> str:
    """The one-line answering instruction that goes with a format."""
    return _INSTRUCTIONS[fmt]


def distractors(answer: int, n: int, rng: random.Random) -> list[int]:
    """`n` distinct wrong answers near `answer`, non-negative when the answer is.

    >>> wrong = distractors(42, 9, random.Random(0))
    >>> len(set(wrong)), 42 in wrong
    (9, False)
    """
    pool = {answer + d for d in _OFFSETS}
    swapped = int(str(abs(answer))[::-1]) * (1 if answer >= 0 else -1)
    pool.add(swapped)
    pool.discard(answer)
    if answer >= 0:
        pool = {p for p in pool if p >= 0}
    chosen = rng.sample(sorted(pool), min(n, len(pool)))
    step = 4
    while len(chosen) < n:
        if answer + step not in chosen:
            chosen.append(answer + step)
        step += 1
    return chosen


def _open(question: str, answer: int, steps: list[str], rng: random.Random) -> Rendered:
    return Rendered(question)


def _cloze(question: str, answer: int, steps: list[str], rng: random.Random) -> Rendered:
    head, _, _ = steps[-1].rpartition("=")
    return Rendered("\n".join([question, *steps[:-1], f"{head}= {BLANK}"]))


def _choice(n: int) -> Renderer:
    def rendered(question: str, answer: int, steps: list[str], rng: random.Random) -> Rendered:
        options = distractors(answer, n - 1, rng)
        correct = rng.randrange(n)
        options.insert(correct, answer)
        lines = [f"{option_letter(i)}) {o}" for i, o in enumerate(options)]
        return Rendered("\n".join([question, *lines]), tuple(str(o) for o in options), correct)

    return rendered


_RENDERERS: dict[TaskFormat, Renderer] = {
    "open": _open,
    "cloze": _cloze,
    "choice4": _choice(4),
    "choice10": _choice(10),
}


def render(question: str, answer: int, steps: list[str], fmt: TaskFormat,
           rng: random.Random) -> Rendered:
    """Show a problem in format `fmt`; `rng` places the options of multiple choice.

    >>> render("What is 2 + 3?", 5, ["2 + 3 = 5"], "cloze", random.Random(0)).question
    'What is 2 + 3?\\n2 + 3 = ___'
    """
    return _RENDERERS[fmt](question, answer, steps, rng)
