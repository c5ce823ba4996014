"""Held-out accuracy per skill for any answering function.

The student is passed in as a batch function from tasks to reply texts, so the same evaluation
serves a local model, a served endpoint or a scripted fake. All skills' problems go to the
student as one batch: a batched model then answers each problem the same way whichever skills are
evaluated with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from coachgraph.tasks.answers import check_answer
from coachgraph.tasks.base import TaskDomain
from coachgraph.types import Task

__all__ = ["AnswerBatch", "heldout_accuracy", "heldout_outcomes", "outcome_accuracy", "task_accuracy"]

logger = logging.getLogger(__name__)

AnswerBatch = Callable[[Sequence[Task]], Sequence[str]]
"""Replies of the student to a batch of tasks, in order."""


def task_accuracy(tasks: Sequence[Task], answer: AnswerBatch) -> float:
    """Share of `tasks` whose reply checks out (0 for no tasks).

    >>> from coachgraph.tasks import ArithmeticDomain
    >>> held = ArithmeticDomain().heldout("add-1d")[:4]
    >>> task_accuracy(held, lambda ts: [t.answer for t in ts])
    1.0
    """
    if not tasks:
        return 0.0
    replies = answer(tasks)
    if len(replies) != len(tasks):
        raise ValueError(f"got {len(replies)} replies for {len(tasks)} tasks")
    return sum(check_answer(t, r)[1] for t, r in zip(tasks, replies, strict=True)) / len(tasks)


def heldout_outcomes(domain: TaskDomain, answer: AnswerBatch, skills: Iterable[str] | None = None,
                     size: int | None = None) -> dict[str, list[bool]]:
    """Whether each held-out problem of each skill was answered right, in held-out order, in one
    batch: benchmarks pair teachers problem by problem on these.

    Args:
        domain: where the held-out sets come from.
        answer: the student, as a batch function from tasks to reply texts.
        skills: the skills to evaluate (all skills of the domain by default).
        size: evaluate only the first `size` held-out problems of each skill.

    >>> from coachgraph.tasks import ArithmeticDomain
    >>> heldout_outcomes(ArithmeticDomain(), lambda ts: ["0" for t in ts], ["add-1d"], size=3)
    {'add-1d': [False, False, False]}
    """
    names = list(skills if skills is not None else domain.skills)
    tasks = [t for s in names for t in domain.heldout(s)[:size]]
    replies = answer(tasks) if tasks else []
    if len(replies) != len(tasks):
        raise ValueError(f"got {len(replies)} replies for {len(tasks)} tasks")
    right: dict[str, list[bool]] = {s: [] for s in names}
    for task, reply in zip(tasks, replies, strict=True):
        right[task.skill].append(check_answer(task, reply)[1])
    return right


def outcome_accuracy(outcomes: dict[str, list[bool]]) -> dict[str, float]:
    """Share of right answers per skill (0 for a skill without problems).

    >>> outcome_accuracy({"a": [True, False], "b": []})
    {'a': 0.5, 'b': 0.0}
    """
    return {s: sum(right) / len(right) if right else 0.0 for s, right in outcomes.items()}


def heldout_accuracy(domain: TaskDomain, answer: AnswerBatch, skills: Iterable[str] | None = None,
                     size: int | None = None) -> dict[str, float]:
    """Accuracy on each skill's held-out set (all skills of the domain by default), in one batch;
    the arguments are those of `heldout_outcomes`."""
    result = outcome_accuracy(heldout_outcomes(domain, answer, skills, size))
    logger.info("held-out accuracy: %s", result)
    return result
