"""Sampling for learnability: practise arms in proportion to p(1 - p).

p(1 - p) is the variance of a 0/1 reward with success rate p: it vanishes on arms always solved
or always failed (where a group of samples has zero advantage and teaches a policy gradient
nothing) and peaks at p = 0.5. This is the signal of "sampling for learnability" (Foster and
Foerster, 2025) and of zero-advantage filtering, and Syllabus' `Learnability` curriculum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.base import Teacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["LearnabilityConfig", "LearnabilityTeacher"]


@dataclass(frozen=True, slots=True)
class LearnabilityConfig:
    """Options of learnability sampling."""

    ema_alpha: float = 1.0
    """Weight of a batch's success rate in an arm's estimate (1 keeps the latest batch's)."""
    prior_success: float = 0.5
    """Success rate assumed for arms not yet tried (0.5: most learnable, so each gets tried)."""
    top_k: int | None = None
    """Draw uniformly among the k most learnable arms instead of in proportion (None)."""
    uniform_prob: float = 0.0
    """Share of the uniform distribution mixed in."""


@register_teacher("learnability")
class LearnabilityTeacher(Teacher):
    """Draws arms by p(1 - p) of their estimated success rate p."""

    config_type = LearnabilityConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.space.arms:
            raise ValueError("learnability sampling needs discrete arms in its task space")
        if self.config.top_k is not None and self.config.top_k < 1:
            raise ValueError("learnability top_k must be at least 1")
        self.success = dict.fromkeys(self.space.arms, float(self.config.prior_success))

    def learnability(self) -> dict[str, float]:
        """p(1 - p) per arm."""
        return {a: p * (1.0 - p) for a, p in self.success.items()}

    def distribution(self) -> dict[str, float]:
        """The sampling distribution over the available arms."""
        arms = list(self.available_arms())
        learn = self.learnability()
        w = np.array([learn[a] for a in arms])
        if self.config.top_k is not None:
            top = np.argsort(-w, kind="stable")[: self.config.top_k]
            w = np.zeros(len(arms))
            w[top] = 1.0
        w = w / w.sum() if w.sum() > 0 else np.full(len(arms), 1 / len(arms))
        u = self.config.uniform_prob
        w = (1 - u) * w + u / len(arms)
        return {a: float(x) for a, x in zip(arms, w, strict=True)}

    def _sample_one(self) -> CurriculumStep:
        dist = self.distribution()
        arms = list(dist)
        arm = arms[int(self.rng.choice(len(arms), p=list(dist.values())))]
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng), weight=dist[arm],
                              reason=f"learnability: p={self.success[arm]:.3f}, P={dist[arm]:.3f}")

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """p <- (1 - alpha) p + alpha * (the arm's success rate over this batch's samples)."""
        batch: dict[str, list[float]] = defaultdict(list)
        for outcome in outcomes:
            if outcome.category in self.success:
                batch[outcome.category].extend(outcome.rewards)
        a = self.config.ema_alpha
        for arm, rewards in batch.items():
            self.success[arm] = (1 - a) * self.success[arm] + a * float(np.mean(rewards))

    def _state(self) -> dict[str, Any]:
        return {"success": dict(self.success)}

    def _load(self, state: dict[str, Any]) -> None:
        self.success = {a: float(state["success"][a]) for a in self.space.arms}
