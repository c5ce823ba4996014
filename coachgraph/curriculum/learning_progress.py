"""A learning-progress bandit over arms (Kanitscheider et al., 2021, as Syllabus'
`OnlineLearningProgress` implements it).

Each arm's success rate over an interval of training episodes is normalised against the first
rate observed for it, p = max(rate - b, 0) / (1 - b) with b capped at 0.75, and tracked by a fast
and a slow moving average (the slow one follows the fast one). Learning progress is the gap
between the two after reweighting both with r(p) = p(1 - theta) / (p + theta(1 - 2p)), which
stretches changes near 0 and 1; it is large both while an arm is being learned and while it is
being forgotten. Arms with progress (or any success) are drawn by the sigmoid of their z-scored
progress, mixed with a uniform share.

One deviation from Syllabus: an arm with no episode in an interval keeps its averages (Syllabus
counts it as a 0 success rate for that interval), since a batch of language-model training
visits only some arms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.base import Teacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["LearningProgressConfig", "LearningProgressTeacher", "reweight", "sigmoid_zscore"]


def reweight(p: np.ndarray, theta: float) -> np.ndarray:
    """r(p) = p(1 - theta) / (p + theta(1 - 2p)): the identity at theta = 0.5, steeper near the
    ends for small theta.

    >>> reweight(np.array([0.0, 0.5, 0.1]), 0.1).round(4).tolist()
    [0.0, 0.9, 0.5]
    """
    return p * (1.0 - theta) / (p + theta * (1.0 - 2.0 * p))


def sigmoid_zscore(x: np.ndarray) -> np.ndarray:
    """sigmoid((x - mean) / std) normalised to sum 1 (std 1 when all equal).

    >>> sigmoid_zscore(np.array([1.0, 1.0])).tolist()
    [0.5, 0.5]
    """
    std = float(np.std(x))
    z = 1.0 / (1.0 + np.exp(-(x - np.mean(x)) / (std if std else 1.0)))
    return z / z.sum()


@dataclass(frozen=True, slots=True)
class LearningProgressConfig:
    """Options of the learning-progress bandit (Syllabus' defaults)."""

    ema_alpha: float = 0.1
    """Step size of the fast average (and of the slow one towards the fast)."""
    p_theta: float = 0.1
    """theta of the reweighting r(p)."""
    interval: int = 0
    """Episodes between refreshes of the averages (0: after every `update` call, one batch)."""
    normalize_success: bool = True
    """Measure success above each arm's first observed rate (capped at 0.75)."""
    uniform_prob: float = 0.25
    """Share of the uniform distribution mixed into the sampling distribution."""


@register_teacher("learning-progress")
class LearningProgressTeacher(Teacher):
    """Draws arms where the fast and slow success averages part the most."""

    config_type = LearningProgressConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.space.arms:
            raise ValueError("the learning-progress bandit needs discrete arms in its task space")
        zeros = dict.fromkeys(self.space.arms, 0.0)
        self.fast, self.slow, self.true = dict(zeros), dict(zeros), dict(zeros)
        self.baseline: dict[str, float] = {}
        self.pending: dict[str, list[float]] = {}  # arm -> [reward sum, sample count]
        self.pending_episodes = 0

    def progress(self) -> dict[str, float]:
        """|r(fast) - r(slow)| per arm."""
        arms = list(self.space.arms)
        theta = self.config.p_theta
        fast = reweight(np.array([self.fast[a] for a in arms]), theta)
        slow = reweight(np.array([self.slow[a] for a in arms]), theta)
        return {a: float(v) for a, v in zip(arms, np.abs(fast - slow), strict=True)}

    def distribution(self) -> dict[str, float]:
        """The sampling distribution over the available arms."""
        arms = list(self.available_arms())
        progress = self.progress()
        lp = np.array([progress[a] for a in arms])
        active = np.array([progress[a] > 0 or self.true[a] > 0 for a in arms])
        dist = np.zeros(len(arms))
        if active.any():
            dist[active] = sigmoid_zscore(lp[active])
        else:
            dist = sigmoid_zscore(lp)
        u = self.config.uniform_prob
        dist = (1 - u) * dist + u / len(arms)
        return {a: float(p) for a, p in zip(arms, dist / dist.sum(), strict=True)}

    def _sample_one(self) -> CurriculumStep:
        dist = self.distribution()
        arms = list(dist)
        arm = arms[int(self.rng.choice(len(arms), p=list(dist.values())))]
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng), weight=dist[arm],
                              reason=f"learning-progress: P={dist[arm]:.3f}, "
                                     f"LP={self.progress()[arm]:.4f}")

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Collect success per arm; refresh the averages at the end of each interval."""
        for outcome in outcomes:
            if outcome.category not in self.fast:
                continue
            acc = self.pending.setdefault(outcome.category, [0.0, 0.0])
            acc[0] += sum(outcome.rewards)
            acc[1] += len(outcome.rewards)
            self.pending_episodes += 1
            if self.config.interval and self.pending_episodes >= self.config.interval:
                self._refresh()
        if not self.config.interval and self.pending:
            self._refresh()

    def _refresh(self) -> None:
        """One interval's success rates move the fast, slow and raw averages."""
        a = self.config.ema_alpha
        for arm, (total, count) in self.pending.items():
            rate = total / count
            first = arm not in self.baseline
            if first:
                self.baseline[arm] = min(rate, 0.75)
            b = self.baseline[arm]
            p = max(rate - b, 0.0) / (1.0 - b) if self.config.normalize_success else rate
            if first:
                self.fast[arm], self.slow[arm], self.true[arm] = p, p, rate
                continue
            self.fast[arm] = a * p + (1 - a) * self.fast[arm]
            self.slow[arm] = a * self.fast[arm] + (1 - a) * self.slow[arm]
            self.true[arm] = a * rate + (1 - a) * self.true[arm]
        self.pending, self.pending_episodes = {}, 0

    def _state(self) -> dict[str, Any]:
        return {"fast": self.fast, "slow": self.slow, "true": self.true, "baseline": self.baseline,
                "pending": self.pending, "pending_episodes": self.pending_episodes}

    def _load(self, state: dict[str, Any]) -> None:
        for name in ("fast", "slow", "true"):
            setattr(self, name, {a: float(state[name][a]) for a in self.space.arms})
        self.baseline = {a: float(v) for a, v in state["baseline"].items()}
        self.pending = {a: [float(x) for x in v] for a, v in state["pending"].items()}
        self.pending_episodes = int(state["pending_episodes"])
