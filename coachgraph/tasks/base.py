"""What a task domain is: the protocol every source of verifiable problems implements, and the
registry that builds one from a spec string.

Graphs and agents see only `TaskDomain`, so a user's own problems (a GSM8K-style JSONL file, or
any class with these members) plug into the curriculum and the tutor without touching them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from coachgraph.errors import InputError
from coachgraph.types import CurriculumStep, Task

__all__ = ["DOMAINS", "LEVEL", "TaskDomain", "load_domain", "register_domain", "skill_at_level", "task_kind"]

LEVEL = "level"
"""Name of the continuous difficulty knob that indexes a domain's skill list (`skill_at_level`)."""


@runtime_checkable
class TaskDomain(Protocol):
    """A source of verifiable, skill-tagged problems with fixed held-out sets.

    Training draws never return a held-out problem, and `heldout` returns the same tasks on every
    call and in every process, so evaluations of different runs compare.
    """

    @property
    def name(self) -> str:
        """Short name of the domain, e.g. ``"arithmetic"``; task kinds are ``<name>.<skill>``."""

    @property
    def skills(self) -> tuple[str, ...]:
        """Skill names, from easiest to hardest."""

    @property
    def prerequisites(self) -> Mapping[str, tuple[str, ...]]:
        """Skill -> skills to master first (every skill is a key; roots map to ``()``)."""

    def box(self) -> dict[str, tuple[float, float]]:
        """The continuous difficulty knobs a teacher may set, as ``{name: (low, high)}``."""

    def draw(self, skill: str, rng: random.Random) -> Task:
        """A training problem of `skill` that is not in its held-out set."""

    def task_for(self, step: CurriculumStep, rng: random.Random) -> Task:
        """The training problem a curriculum decision asks for (its skill, format and knobs)."""

    def heldout(self, skill: str) -> list[Task]:
        """The fixed held-out problems of `skill`."""


def skill_at_level(skills: tuple[str, ...], level: float) -> str:
    """The skill at a continuous difficulty `level` in ``[0, len(skills))``, clipped to the ends.

    This lets teachers over continuous boxes (ALP-GMM) drive a discrete skill list.

    >>> skill_at_level(("a", "b", "c"), 1.7), skill_at_level(("a", "b", "c"), -2.0)
    ('b', 'a')
    """
    return skills[min(max(int(level), 0), len(skills) - 1)]


def task_kind(domain: TaskDomain, task: Task) -> str:
    """The task family label that skill statistics and reflections are kept under.

    >>> from coachgraph.tasks import ArithmeticDomain
    >>> task_kind(ArithmeticDomain(), ArithmeticDomain().heldout("add-1d")[0])
    'arithmetic.add-1d'
    """
    return f"{domain.name}.{task.skill}"


DOMAINS: dict[str, Callable[[str], TaskDomain]] = {}
"""Domain factories by spec name; each takes the text after ``name:`` (empty when none)."""


def register_domain(name: str) -> Callable[[Callable[[str], TaskDomain]], Callable[[str], TaskDomain]]:
    """Decorator that adds a domain factory to `DOMAINS` under `name`."""

    def decorate(factory: Callable[[str], TaskDomain]) -> Callable[[str], TaskDomain]:
        DOMAINS[name] = factory
        return factory

    return decorate


def load_domain(spec: str) -> TaskDomain:
    """Build the domain a spec names: ``arithmetic``, or ``jsonl:<path>`` for a GSM8K-style file.

    Raises:
        InputError: naming the spec and the known domains.
    """
    name, _, argument = spec.strip().partition(":")
    factory = DOMAINS.get(name)
    if factory is None:
        raise InputError(f"unknown task domain {spec!r}; known: arithmetic, jsonl:<path>", source="domain")
    return factory(argument)
