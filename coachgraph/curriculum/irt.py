"""IRT/PUDF: put arms on a 1PL difficulty scale, estimate the student's ability, serve what fits.

With a single learner there is no offline crowd, so the student's own past rounds act as the
crowd: each `update` call is one respondent with its own ability, and the 1PL difficulties b
are the joint MAP over all rounds. The current ability is then the MAP under an N(0, 1) prior
given b and the most recent responses, as in PUDF's DDS-MAE.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from threadpoolctl import threadpool_limits

from coachgraph.curriculum.base import Teacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["IRTConfig", "IRTTeacher", "ability_map", "fit_difficulties", "target_difficulty"]

Counts = tuple[np.ndarray, np.ndarray]


def target_difficulty(theta: float, p: float) -> float:
    """The difficulty b* at which P(correct) = sigmoid(theta - b*) equals `p`.

    >>> round(target_difficulty(0.0, 0.7), 4)   # log(1/0.7 - 1) = log(0.4286)
    -0.8473
    """
    return math.log(1.0 / p - 1.0) + theta


def ability_map(b: np.ndarray, successes: np.ndarray, trials: np.ndarray,
                iterations: int = 50) -> float:
    """MAP ability under an N(0, 1) prior by Newton's method (the posterior is log-concave).

    >>> round(ability_map(np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([1.0, 1.0])), 6)
    0.0
    """
    theta = 0.0
    for _ in range(iterations):
        p = expit(theta - b)
        grad = float(np.sum(successes - trials * p)) - theta
        hess = -float(np.sum(trials * p * (1 - p))) - 1.0
        step = grad / hess
        theta -= step
        if abs(step) < 1e-10:
            break
    return theta


def fit_difficulties(successes: np.ndarray, trials: np.ndarray, prior_mean: np.ndarray,
                     prior_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Joint MAP of round abilities and item difficulties of a 1PL model.

    `successes` and `trials` are (rounds, items) counts; abilities have an N(0, 1) prior and
    difficulties an N(prior_mean, prior_scale^2) prior. Returns (abilities, difficulties).
    """
    rounds, items = successes.shape

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        theta, b = z[:rounds], z[rounds:]
        logits = theta[:, None] - b[None, :]  # (rounds, items)
        p = expit(logits)
        nll = float(np.sum(trials * np.logaddexp(0, logits) - successes * logits))
        resid = successes - trials * p
        prior_b = (b - prior_mean) / prior_scale**2
        value = nll + 0.5 * float(theta @ theta) + 0.5 * float((b - prior_mean) @ prior_b)
        grad = np.concatenate([-resid.sum(axis=1) + theta, resid.sum(axis=0) + prior_b])
        return value, grad

    z0 = np.concatenate([np.zeros(rounds), prior_mean])
    with threadpool_limits(1):  # BLAS threads only slow down problems this small
        z = minimize(objective, z0, jac=True, method="L-BFGS-B").x
    return z[:rounds], z[rounds:]


@dataclass(frozen=True, slots=True)
class IRTConfig:
    """Options of the IRT/PUDF teacher."""

    lower: float = -math.inf
    """Serve arms with b >= theta + lower."""
    upper: float = 0.0
    """Serve arms with b <= theta + upper (PUDF's default: everything at or below the ability)."""
    target_success: float | None = None
    """When set, serve the `min_items` arms nearest b* for this success rate instead."""
    min_items: int = 1
    """Serve at least this many arms (the easiest, or the nearest b*)."""
    prior_difficulty: Mapping[str, float] = field(default_factory=dict)
    """Prior mean of b per arm (0 for arms not named), e.g. from the skill order."""
    prior_scale: float = 1.0
    """Prior standard deviation of b."""
    ability_window: int = 64
    """Most recent outcomes used to estimate the current ability."""
    max_rounds: int = 200
    """Most recent update rounds kept as the crowd for fitting b."""
    stagnation_rounds: int = 2
    """Rounds without ability gain after which the ability is bumped."""
    bump: float = 0.1
    """Amount added to the ability on stagnation."""


@register_teacher("irt")
class IRTTeacher(Teacher):
    """Uniform over the arms whose fitted difficulty suits the current ability estimate."""

    config_type = IRTConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.space.arms:
            raise ValueError("the IRT teacher needs discrete arms in its task space")
        prior = self.config.prior_difficulty
        self.prior = np.array([float(prior.get(a, 0.0)) for a in self.space.arms])
        self.b = self.prior.copy()
        self.rounds: list[list[list[float]]] = []  # per round, per arm: [successes, trials]
        self.recent: list[tuple[int, float, float]] = []  # (arm index, successes, trials)
        self.theta_map, self.bump, self.stagnant = 0.0, 0.0, 0

    @property
    def theta(self) -> float:
        """The ability used for selection: the MAP estimate plus stagnation bumps."""
        return self.theta_map + self.bump

    def selected(self) -> list[str]:
        """The arms served now."""
        arms = self.available_arms()
        b = {a: float(self.b[self.space.arms.index(a)]) for a in arms}
        n = min(self.config.min_items, len(arms))
        if self.config.target_success is not None:
            star = target_difficulty(self.theta, self.config.target_success)
            return sorted(arms, key=lambda a: (abs(b[a] - star), b[a]))[:n]
        lo, hi = self.theta + self.config.lower, self.theta + self.config.upper
        chosen = [a for a in arms if lo <= b[a] <= hi]
        return chosen if len(chosen) >= n else sorted(arms, key=lambda a: b[a])[:n]

    def _sample_one(self) -> CurriculumStep:
        arms = self.selected()
        arm = arms[int(self.rng.integers(len(arms)))]
        b = float(self.b[self.space.arms.index(arm)])
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng),
                              weight=1.0 / len(arms),
                              reason=f"irt: b={b:.2f}, theta={self.theta:.2f}")

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Record the round, refit b over the kept rounds, re-estimate theta, bump on stagnation."""
        counts = [[0.0, 0.0] for _ in self.space.arms]
        for o in outcomes:
            if o.category in self.space.arms:
                i = self.space.arms.index(o.category)
                counts[i][0] += sum(o.rewards)
                counts[i][1] += len(o.rewards)
                self.recent.append((i, sum(o.rewards), float(len(o.rewards))))
        if not any(t for _, t in counts):
            return
        self.rounds = [*self.rounds, counts][-self.config.max_rounds:]
        self.recent = self.recent[-self.config.ability_window:]
        s, t = np.array(self.rounds)[..., 0], np.array(self.rounds)[..., 1]
        _, self.b = fit_difficulties(s, t, self.prior, self.config.prior_scale)
        self._new_ability()

    def _new_ability(self) -> None:
        idx = np.array([i for i, _, _ in self.recent])
        s = np.array([x for _, x, _ in self.recent])
        t = np.array([x for _, _, x in self.recent])
        theta = ability_map(self.b[idx], s, t)
        self.stagnant = self.stagnant + 1 if theta <= self.theta_map else 0
        self.theta_map = theta
        if self.stagnant >= self.config.stagnation_rounds:
            self.bump += self.config.bump
            self.stagnant = 0

    def _state(self) -> dict[str, Any]:
        return {"b": self.b.tolist(), "rounds": self.rounds, "recent": self.recent,
                "theta_map": self.theta_map, "bump": self.bump, "stagnant": self.stagnant}

    def _load(self, state: dict[str, Any]) -> None:
        self.b = np.array(state["b"], dtype=float)
        self.rounds = state["rounds"]
        self.recent = [(int(i), float(s), float(t)) for i, s, t in state["recent"]]
        self.theta_map, self.bump = float(state["theta_map"]), float(state["bump"])
        self.stagnant = int(state["stagnant"])
