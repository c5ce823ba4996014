"""Prerequisite gating: a skill is practised only once all its prerequisites are mastered.

Mastery is the mean reward over a skill's most recent outcomes reaching a threshold; it is kept
once reached, so a bad batch does not lock a skill the student is already working on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coachgraph.curriculum.base import TeacherWrapper
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["GateConfig", "PrerequisiteGate"]


@dataclass(frozen=True, slots=True)
class GateConfig:
    """Options of prerequisite gating."""

    prerequisites: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Skill -> skills to master first (skills not named have none)."""
    threshold: float = 0.8
    """Mean reward over the window that counts as mastery."""
    window: int = 20
    """Most recent outcomes per skill that make up its mean."""
    min_outcomes: int = 10
    """Outcomes needed before a skill can count as mastered."""
    mastered: tuple[str, ...] = ()
    """Skills mastered from the start (e.g. from a base evaluation)."""


@register_teacher("prereq-gate")
class PrerequisiteGate(TeacherWrapper):
    """Restricts the base to unlocked skills and moves any locked choice to an unlocked one."""

    config_type = GateConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mastered: set[str] = set(self.config.mastered)
        self.recent: dict[str, list[float]] = {}

    def unlocked(self) -> list[str]:
        """Arms whose prerequisites are all mastered, in task-space order."""
        pre = self.config.prerequisites
        return [a for a in self.space.arms if all(p in self.mastered for p in pre.get(a, ()))]

    def _before_sample(self) -> None:
        self.base.restrict(self.unlocked())

    def _adjust(self, step: CurriculumStep) -> CurriculumStep:
        open_ = self.unlocked()
        if not open_ or step.skill in open_:
            return step
        skill = open_[int(self.rng.integers(len(open_)))]
        return step.model_copy(update={
            "skill": skill, "reason": f"{step.reason}; {step.skill} locked, gated to {skill}"})

    def _observe(self, outcomes: Sequence[Outcome]) -> None:
        cfg = self.config
        for o in outcomes:
            window = [*self.recent.get(o.category, []), o.mean_reward][-cfg.window:]
            self.recent[o.category] = window
            if len(window) >= cfg.min_outcomes and np.mean(window) >= cfg.threshold:
                self.mastered.add(o.category)

    def _state(self) -> dict[str, Any]:
        return {"mastered": sorted(self.mastered),
                "recent": {k: list(v) for k, v in self.recent.items()}}

    def _load(self, state: dict[str, Any]) -> None:
        self.mastered = set(state["mastered"])
        self.recent = {k: [float(x) for x in v] for k, v in state["recent"].items()}
