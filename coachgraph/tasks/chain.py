"""h1-style substitution chaining of short problems into one long one.

The answer of problem j replaces slot ``a`` of problem j+1 (shown as a named unknown), the ground
truth of every later problem is recomputed, and only the last answer is asked for, so a chain of
length h is exactly as verifiable as its parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from coachgraph.tasks.problems import Problem

__all__ = ["Chain", "chain_problems"]

Chain = tuple[str, int, list[str]]


def _link(problem: Problem, previous: int, j: int) -> Problem:
    """Problem `j` (1-based) with slot ``a`` set to the previous answer and shown as ``X{j-1}``."""
    values = dict(problem.values, a=previous)
    return replace(problem, values=values, shown={"a": f"X{j - 1}"})


def chain_problems(problems: Sequence[Problem]) -> Chain:
    """Question, gold answer and reference steps of the chain of `problems`, in order.

    >>> from coachgraph.tasks.problems import family
    >>> add = family("add-1d")
    >>> q, answer, steps = chain_problems([Problem(add, {"a": 2, "b": 3}),
    ...                                   Problem(add, {"a": 9, "b": 4})])
    >>> answer, steps[-1]
    (9, '5 + 4 = 9')
    >>> print(q)
    Problem 1: What is 2 + 3?
    Problem 2: Let X1 be the answer to Problem 1. What is X1 + 4?
    Give the answer to Problem 2.
    """
    if not problems:
        raise ValueError("a chain needs at least one problem")
    if len(problems) == 1:
        return (problems[0].question, *problems[0].solution)
    linked, lines, steps = [problems[0]], [f"Problem 1: {problems[0].question}"], []
    answer, first_steps = problems[0].solution
    steps.extend(first_steps)
    for j, problem in enumerate(problems[1:], start=2):
        link = _link(problem, answer, j)
        linked.append(link)
        lines.append(f"Problem {j}: Let X{j - 1} be the answer to Problem {j - 1}. {link.question}")
        answer, more = link.solution
        steps.extend(more)
    lines.append(f"Give the answer to Problem {len(problems)}.")
    return "\n".join(lines), answer, steps
