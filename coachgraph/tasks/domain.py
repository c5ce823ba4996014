"""The arithmetic task domain: seeded training draws and fixed held-out sets per skill.

Held-out sets come from a fixed seed per skill and training draws reject every held-out
question, so evaluation never sees a problem the student practised.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass

from coachgraph.errors import InputError
from coachgraph.tasks.base import LEVEL, TaskDomain, register_domain, skill_at_level
from coachgraph.tasks.chain import chain_problems
from coachgraph.tasks.formats import render
from coachgraph.tasks.problems import Problem, family
from coachgraph.tasks.skills import PREREQUISITES, SKILLS
from coachgraph.types import CurriculumStep, Task, TaskFormat

__all__ = ["ArithmeticDomain", "DomainConfig"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DomainConfig:
    """Sizes and seeds of the arithmetic domain."""

    heldout_size: int = 50
    """Held-out problems per skill; a skill with fewer than twice as many distinct problems
    keeps half of them for training."""
    heldout_seed: int = 20_240_601
    """Seed of the held-out sets; fixed so every run evaluates on the same problems."""
    max_tries: int = 10_000
    """Draws allowed before giving up on finding a new problem (small skills run out)."""


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


class ArithmeticDomain:
    """Skill-tagged arithmetic and word problems with difficulty knobs.

    Example:
        >>> domain = ArithmeticDomain()
        >>> task = domain.draw("add-2d-carry", random.Random(0))
        >>> task.skill, task.question in {t.question for t in domain.heldout("add-2d-carry")}
        ('add-2d-carry', False)
    """

    def __init__(self, config: DomainConfig | None = None) -> None:
        self.config = config or DomainConfig()
        self._heldout: dict[str, list[Task]] = {}
        self._held_questions: dict[str, frozenset[str]] = {}

    @property
    def name(self) -> str:
        """``arithmetic``."""
        return "arithmetic"

    @property
    def skills(self) -> tuple[str, ...]:
        """Skill names from easiest to hardest."""
        return SKILLS

    @property
    def prerequisites(self) -> Mapping[str, tuple[str, ...]]:
        """The arithmetic skill graph (`PREREQUISITES`)."""
        return PREREQUISITES

    def box(self) -> dict[str, tuple[float, float]]:
        """The continuous difficulty box: one knob, `LEVEL`, spanning the skill list."""
        return {LEVEL: (0.0, float(len(SKILLS)))}

    def heldout(self, skill: str) -> list[Task]:
        """The fixed open-format held-out set of `skill` (the same on every call and run)."""
        if skill not in self._heldout:
            self._heldout[skill] = self._build_heldout(skill)
            self._held_questions[skill] = frozenset(t.question for t in self._heldout[skill])
        return self._heldout[skill]

    def _build_heldout(self, skill: str) -> list[Task]:
        """The first distinct draws of a fixed seed; at most half of a small skill's problems."""
        rng = random.Random(f"{self.config.heldout_seed}:{skill}")
        size, fam = self.config.heldout_size, family(skill)
        seen: dict[str, Problem] = {}
        for _ in range(self.config.max_tries):
            problem = Problem(fam, fam.draw(rng))
            seen.setdefault(problem.question, problem)
            if len(seen) >= 2 * size:
                break
        kept = list(seen.values())[:min(size, len(seen) // 2)]
        tasks = [self._task([p], "open", rng, split="heldout") for p in kept]
        logger.debug("held-out set of %s: %d problems", skill, len(tasks))
        return tasks

    def _fresh(self, skill: str, rng: random.Random) -> Problem:
        """A training problem of `skill` that is not in its held-out set."""
        self.heldout(skill)
        held, fam = self._held_questions[skill], family(skill)
        for _ in range(self.config.max_tries):
            problem = Problem(fam, fam.draw(rng))
            if problem.question not in held:
                return problem
        raise RuntimeError(f"no training problem of {skill!r} outside its held-out set")

    def draw(self, skill: str, rng: random.Random, fmt: TaskFormat = "open",
             horizon: int = 1) -> Task:
        """A training task of `skill`; with `horizon` > 1, a chain of that many problems."""
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        problems = [self._fresh(skill, rng) for _ in range(horizon)]
        return self._task(problems, fmt, rng, split="train")

    def task_for(self, step: CurriculumStep, rng: random.Random) -> Task:
        """The training task a curriculum step asks for (its skill, or the skill at its level).

        The step's own knobs are kept in the task's difficulty, so outcomes report back the
        exact point a continuous teacher sampled.
        """
        skill = step.skill or skill_at_level(SKILLS, step.difficulty.get(LEVEL, 0.0))
        task = self.draw(skill, rng, step.format, step.horizon)
        return task.model_copy(update={"difficulty": {**task.difficulty, **step.difficulty}})

    def _task(self, problems: list[Problem], fmt: TaskFormat, rng: random.Random,
              split: str) -> Task:
        question, answer, steps = chain_problems(problems)
        shown = render(question, answer, steps, fmt, rng)
        fam = problems[0].family
        return Task(
            id=f"{fam.skill}-h{len(problems)}-{fmt}-{_digest(shown.question)}",
            skill=fam.skill, category=fam.skill, difficulty=dict(fam.difficulty),
            question=shown.question, answer=str(answer), steps=steps, format=fmt,
            options=list(shown.options), correct_option=shown.correct_option,
            horizon=len(problems), metadata={"split": split, "family": fam.category},
        )


@register_domain("arithmetic")
def _arithmetic(argument: str) -> TaskDomain:
    if argument:
        raise InputError(f"the arithmetic domain takes no argument, got {argument!r}", source="domain")
    return ArithmeticDomain()
