"""Reflector: writes what recent practice taught back into the shared skill library.

From the graded attempts of a step it keeps the task family with the most failures and asks a
model to create or revise one skill from those trajectories; it also counts the outcomes of
attempts that had library skills in their prompt into the library's usage statistics, and
retires skills it wrote that keep failing (curated skills are kept: a hard skill's low success
rate says little about its notes).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from coachgraph.skills import Reflection, SkillLibrary, SkillWriter, Trajectory, retire_failing
from coachgraph.tasks import TaskDomain, task_kind
from coachgraph.types import StepItem

__all__ = ["SkillOutcome", "count_outcomes", "reflect_due", "skill_outcomes", "step_trajectories",
           "write_skill"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SkillOutcome:
    """How one attempt went that had a library skill in its prompt."""

    skill: str
    success: bool
    task_kind: str
    step: int


def reflect_due(step: int, every: int) -> bool:
    """Whether a reflection follows training step `step` (every `every` steps; 0 never).

    >>> reflect_due(4, 2), reflect_due(3, 2), reflect_due(4, 0)
    (True, False, False)
    """
    return every > 0 and step % every == 0


def skill_outcomes(items: Sequence[StepItem], domain: TaskDomain, step: int) -> list[SkillOutcome]:
    """One outcome per attempt and library skill shown in its prompt."""
    return [SkillOutcome(name, bool(a.correct), task_kind(domain, item.task), step)
            for item in items for name in item.skills for a in item.attempts]


def count_outcomes(library: SkillLibrary, outcomes: Sequence[SkillOutcome], run_id: str) -> int:
    """Count outcomes of skills still in the library into its usage statistics."""
    counted = [o for o in outcomes if o.skill in library]
    for o in counted:
        library.stats.record(o.skill, o.success, run_id, o.task_kind)
    return len(counted)


def step_trajectories(items: Sequence[StepItem], domain: TaskDomain, student: str = "") -> list[Trajectory]:
    """The graded attempts of the task family with the most failures, as trajectories."""
    rows = [Trajectory(task=item.task.question, steps=attempt.text, success=bool(attempt.correct),
                       verdict=verdict.feedback, task_kind=task_kind(domain, item.task),
                       skill=item.skills[0] if item.skills else None, student=student)
            for item in items for attempt, verdict in zip(item.attempts, item.verdicts, strict=True)]
    failures = Counter(t.task_kind for t in rows if not t.success)
    if not failures:
        return []
    kind = failures.most_common(1)[0][0]
    return [t for t in rows if t.task_kind == kind]


def write_skill(model: BaseChatModel, library: SkillLibrary, trajectories: Sequence[Trajectory],
                written: Sequence[str]) -> tuple[Reflection | None, list[str]]:
    """Create or revise one skill from `trajectories` (none when there are none), then retire the
    skills among `written` (those this run created) that keep failing; returns both."""
    reflection = SkillWriter(model, library).reflect(trajectories) if trajectories else None
    if reflection is not None:
        logger.info("reflection: %s %s", reflection.action.value, reflection.skill.name)
    created = [*written, *([reflection.skill.name] if reflection and reflection.action.value == "create" else [])]
    return reflection, retire_failing(library, min_uses=20, names=created)
