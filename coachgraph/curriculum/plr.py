"""Prioritized level replay (PLR; Jiang, Grefenstette and Rocktäschel, 2021) over arms.

Each arm (a level: a prompt, an item or a category) keeps a score, the mean absolute advantage
of its latest outcomes (PLR's L1 value loss, |return - value|); arms are replayed with
probability P = (1 - c) * P_score + c * P_staleness, where P_score ranks arms by score
(h(S_i) = 1 / rank_i^(1/beta)) and P_staleness favours arms not drawn for long (the episode
count since an arm's last draw, normalised). Arms never scored are drawn uniformly while too few
have been seen: with the proportionate schedule, a seen arm is replayed with probability equal
to the share of arms seen so far.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.base import Teacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["SCORES", "TRANSFORMS", "PLRConfig", "PLRTeacher", "rank_weights", "value_l1"]


def value_l1(outcome: Outcome) -> float:
    """Mean |advantage|: the trainer's advantages when given, else reward minus the group mean.

    >>> value_l1(Outcome(task_id="t", skill="a", category="a", rewards=[1.0, 0.0, 0.0, 0.0]))
    0.375
    """
    if outcome.advantages is not None:
        return sum(abs(a) for a in outcome.advantages) / len(outcome.advantages)
    mean = outcome.mean_reward
    return sum(abs(r - mean) for r in outcome.rewards) / len(outcome.rewards)


SCORES: dict[str, Callable[[Outcome], float]] = {
    "value-l1": value_l1,
    "abs-advantage": lambda o: o.mean_abs_advantage,
}
"""How an outcome scores its arm: PLR's L1 value loss, or the group-normalised |A| (SEC's)."""


def rank_weights(scores: np.ndarray, temperature: float) -> np.ndarray:
    """1 / rank^(1/temperature), rank 1 for the highest score (ties: the earlier arm first).

    >>> rank_weights(np.array([0.2, 0.5, 0.1]), 1.0).tolist()
    [0.5, 1.0, 0.3333333333333333]
    """
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    return 1.0 / ranks ** (1.0 / temperature)


TRANSFORMS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "rank": rank_weights,
    "power": lambda s, t: np.asarray(s, dtype=float) ** (1.0 / t),
    "softmax": lambda s, t: np.exp((s - np.max(s)) / t),
}
"""Score transforms h(S) by name, each taking (scores, temperature)."""


@dataclass(frozen=True, slots=True)
class PLRConfig:
    """Options of PLR (defaults: the paper's best setting, rank prioritisation with staleness)."""

    score: str = "value-l1"
    """How an outcome scores its arm, a name in `SCORES`."""
    score_transform: str = "rank"
    """Transform of scores into replay weights, a name in `TRANSFORMS`."""
    temperature: float = 0.1
    """beta of the score transform (lower is greedier)."""
    staleness_coef: float = 0.1
    """c: weight of staleness in the replay distribution."""
    staleness_transform: str = "power"
    """Transform of staleness counts into weights."""
    staleness_temperature: float = 1.0
    """Temperature of the staleness transform."""
    schedule: str = "proportionate"
    """'proportionate': replay with probability = share of arms seen; 'fixed': with 1 - nu."""
    rho: float = 1.0
    """Share of arms that must have been seen before any replay."""
    nu: float = 0.5
    """Probability of drawing an unseen arm under the fixed schedule."""
    alpha: float = 1.0
    """Step size of the score's moving average (1 keeps the latest batch's score)."""


@register_teacher("plr")
class PLRTeacher(Teacher):
    """Replays arms by rank of their learning potential, mixed with staleness."""

    config_type = PLRConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.config
        if not self.space.arms:
            raise ValueError("PLR needs discrete arms (levels) in its task space")
        for field, table in (("score", SCORES), ("score_transform", TRANSFORMS),
                             ("staleness_transform", TRANSFORMS)):
            if getattr(cfg, field) not in table:
                raise ValueError(f"unknown PLR {field} {getattr(cfg, field)!r}; known: {sorted(table)}")
        if cfg.schedule not in ("proportionate", "fixed"):
            raise ValueError(f"unknown PLR schedule {cfg.schedule!r}; known: fixed, proportionate")
        if not 0.0 < cfg.rho <= 1.0:
            raise ValueError("PLR rho must be in (0, 1]")
        self.scores = {arm: 0.0 for arm in self.space.arms}
        self.staleness = {arm: 0.0 for arm in self.space.arms}
        self.seen: set[str] = set()

    def replay_distribution(self) -> dict[str, float]:
        """P_replay over the seen available arms."""
        cfg = self.config
        arms = [a for a in self.available_arms() if a in self.seen]
        if not arms:
            return {}
        scores = np.array([self.scores[a] for a in arms])
        weights = _normalised(TRANSFORMS[cfg.score_transform](scores, cfg.temperature))
        if cfg.staleness_coef > 0:
            stale = np.array([self.staleness[a] for a in arms])
            stale_w = _normalised(TRANSFORMS[cfg.staleness_transform](stale, cfg.staleness_temperature))
            weights = (1 - cfg.staleness_coef) * weights + cfg.staleness_coef * stale_w
        total = weights.sum()
        weights = weights / total if total > 0 else np.full(len(arms), 1 / len(arms))
        return {a: float(w) for a, w in zip(arms, weights, strict=True)}

    def _replays(self, seen_share: float) -> bool:
        cfg = self.config
        if seen_share < cfg.rho:
            return False
        if seen_share >= 1.0:
            return True
        draw = self.rng.random()
        return draw < seen_share if cfg.schedule == "proportionate" else draw >= cfg.nu

    def _sample_one(self) -> CurriculumStep:
        available = self.available_arms()
        unseen = [a for a in available if a not in self.seen]
        if self._replays(1 - len(unseen) / len(available)):
            dist = self.replay_distribution()
            arms = list(dist)
            arm = arms[int(self.rng.choice(len(arms), p=list(dist.values())))]
            weight, reason = dist[arm], f"plr: replay (score {self.scores[arm]:.3f})"
        else:
            arm = unseen[int(self.rng.integers(len(unseen)))]
            weight, reason = 1.0 / len(unseen), "plr: unseen arm"
        for a in self.staleness:
            self.staleness[a] += 1.0
        self.staleness[arm] = 0.0
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng), weight=weight,
                              reason=reason)

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """S <- (1 - alpha) S + alpha * (mean score of the arm's outcomes in this batch)."""
        batch: dict[str, list[float]] = defaultdict(list)
        score = SCORES[self.config.score]
        for outcome in outcomes:
            if outcome.category in self.scores:
                batch[outcome.category].append(score(outcome))
        a = self.config.alpha
        for arm, values in batch.items():
            self.scores[arm] = (1 - a) * self.scores[arm] + a * float(np.mean(values))
            self.seen.add(arm)

    def _state(self) -> dict[str, Any]:
        return {"scores": dict(self.scores), "staleness": dict(self.staleness),
                "seen": sorted(self.seen)}

    def _load(self, state: dict[str, Any]) -> None:
        self.scores = {a: float(state["scores"][a]) for a in self.space.arms}
        self.staleness = {a: float(state["staleness"][a]) for a in self.space.arms}
        self.seen = set(state["seen"])


def _normalised(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights / total if total > 0 else weights
