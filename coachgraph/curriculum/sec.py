"""SEC: a non-stationary bandit over categories, rewarded by mean absolute advantage.

Absolute advantage peaks where the student succeeds about half the time, so the Boltzmann
policy drifts to categories at the edge of competence and away from solved or hopeless ones.
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

__all__ = ["SECConfig", "SECTeacher", "boltzmann"]


@dataclass(frozen=True, slots=True)
class SECConfig:
    """Options of SEC."""

    alpha: float = 0.1
    """TD(0) step size: Q <- alpha * r + (1 - alpha) * Q."""
    temperature: float = 1.0
    """Boltzmann temperature tau: lower is greedier."""


def boltzmann(q: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of q / temperature, computed stably.

    >>> boltzmann(np.array([0.0, 0.0]), 1.0).tolist()
    [0.5, 0.5]
    """
    z = q / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


@register_teacher("sec")
class SECTeacher(Teacher):
    """One value per arm, TD(0)-updated on the arms seen in each batch."""

    config_type = SECConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.space.arms:
            raise ValueError("SEC needs discrete arms (categories) in its task space")
        self.q: dict[str, float] = {arm: 0.0 for arm in self.space.arms}

    def probabilities(self) -> dict[str, float]:
        """P(arm) over the available arms under the current values."""
        arms = self.available_arms()
        p = boltzmann(np.array([self.q[a] for a in arms]), self.config.temperature)
        return {a: float(x) for a, x in zip(arms, p, strict=True)}

    def _sample_one(self) -> CurriculumStep:
        probs = self.probabilities()
        arms = list(probs)
        arm = arms[self.rng.choice(len(arms), p=list(probs.values()))]
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng),
                              weight=probs[arm],
                              reason=f"sec: P={probs[arm]:.3f}, Q={self.q[arm]:.3f}")

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Q(c) <- alpha * mean|A| over the batch's problems of c + (1 - alpha) * Q(c)."""
        rewards: dict[str, list[float]] = defaultdict(list)
        for outcome in outcomes:
            if outcome.category in self.q:
                rewards[outcome.category].append(outcome.mean_abs_advantage)
        a = self.config.alpha
        for arm, rs in rewards.items():
            self.q[arm] = a * float(np.mean(rs)) + (1 - a) * self.q[arm]

    def _state(self) -> dict[str, Any]:
        return {"q": dict(self.q)}

    def _load(self, state: dict[str, Any]) -> None:
        self.q = {arm: float(state["q"][arm]) for arm in self.space.arms}
