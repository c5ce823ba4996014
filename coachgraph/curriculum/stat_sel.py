"""STAT-Sel: practise each skill in proportion to how often it is missing from failed answers.

A difficult question (mean reward below a threshold) adds one count to every skill in its
missing-skill profile: the skills the critic named, or its own category when no diagnosis was
made. The sampling weight of a skill is its count (plus optional smoothing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.base import Teacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["STATSelConfig", "STATSelTeacher"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class STATSelConfig:
    """Options of STAT-Sel."""

    difficult_below: float = 0.5
    """An outcome with mean reward below this is a difficult question."""
    smoothing: float = 0.0
    """Pseudo-count added to every skill's weight, so unseen skills keep a chance."""
    decay: float = 1.0
    """Factor applied to all counts before each update (1 keeps the whole profile)."""


@register_teacher("stat-sel")
class STATSelTeacher(Teacher):
    """Sampling weights from missing-skill counts; uniform until something is missing."""

    config_type = STATSelConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.space.arms:
            raise ValueError("STAT-Sel needs discrete arms (skills) in its task space")
        self.counts: dict[str, float] = {arm: 0.0 for arm in self.space.arms}

    def weights(self) -> dict[str, float]:
        """Normalised sampling weight of each available arm."""
        arms = self.available_arms()
        w = np.array([self.counts[a] + self.config.smoothing for a in arms])
        w = w / w.sum() if w.sum() > 0 else np.full(len(arms), 1.0 / len(arms))
        return {a: float(x) for a, x in zip(arms, w, strict=True)}

    def _sample_one(self) -> CurriculumStep:
        weights = self.weights()
        arms = list(weights)
        arm = arms[self.rng.choice(len(arms), p=list(weights.values()))]
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng),
                              weight=weights[arm],
                              reason=f"stat-sel: missing {self.counts[arm]:g} times")

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Decay the counts, then count the missing skills of each difficult outcome."""
        for arm in self.counts:
            self.counts[arm] *= self.config.decay
        for outcome in outcomes:
            if outcome.mean_reward >= self.config.difficult_below:
                continue
            for skill in outcome.missing_skills or [outcome.category]:
                if skill in self.counts:
                    self.counts[skill] += 1.0
                else:
                    logger.debug("stat-sel: missing skill %r is not an arm", skill)

    def _state(self) -> dict[str, Any]:
        return {"counts": dict(self.counts)}

    def _load(self, state: dict[str, Any]) -> None:
        self.counts = {arm: float(state["counts"][arm]) for arm in self.space.arms}
