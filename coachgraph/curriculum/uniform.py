"""The random baseline: every arm and every point of the box equally likely."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coachgraph.curriculum.base import Teacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["RandomConfig", "RandomTeacher"]


@dataclass(frozen=True, slots=True)
class RandomConfig:
    """The random teacher has no options; the class exists so every teacher takes a config."""


@register_teacher("random")
class RandomTeacher(Teacher):
    """Uniform over the available arms and over the box; learns nothing."""

    config_type = RandomConfig

    def _sample_one(self) -> CurriculumStep:
        arms = self.available_arms()
        arm = str(arms[self.rng.integers(len(arms))]) if arms else ""
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng),
                              weight=1.0 / len(arms) if arms else 1.0, reason="random: uniform")

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Nothing to learn: the baseline ignores outcomes."""

    def _state(self) -> dict[str, Any]:
        return {}

    def _load(self, state: dict[str, Any]) -> None:
        """No state besides the generator."""
