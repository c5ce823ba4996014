"""Covar-GMM: sample where reward rises with time, read off a Gaussian mixture's covariances.

A mixture is fitted on recent (task, time, reward) points, time being each episode's position in
the fitted window scaled to [0, 1). A component whose reward grows with time (positive
time-reward covariance) covers tasks the student is getting better at; components are drawn in
proportion to that covariance (its absolute value with `absolute_lp`), the rest of the time
tasks are uniform. This is IGMM (Moulin-Frier et al., 2014) as the ALP-GMM paper compares it.
Arms and knobs form the task vector as `ContinuousTeacher` says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.alp_gmm import check_mixture_options
from coachgraph.curriculum.continuous import ContinuousTeacher
from coachgraph.curriculum.mixture import Mixture, fit_mixture
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["CovarGMMConfig", "CovarGMMTeacher", "window_points"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CovarGMMConfig:
    """Options of Covar-GMM (defaults of the ALP-GMM paper's code)."""

    fit_rate: int = 250
    """Episodes between mixture fits."""
    window: int | None = None
    """Most recent episodes each fit uses (None: `fit_rate`, the original's disjoint batches)."""
    nb_random: int = 250
    """Episodes of uniform sampling before the first fit."""
    min_components: int = 2
    """Smallest number of Gaussians tried."""
    max_components: int = 10
    """Largest number of Gaussians tried."""
    random_task_ratio: float = 0.2
    """Share of tasks drawn uniformly even once a mixture is fitted."""
    criterion: str = "aic"
    """Model-selection criterion among `CRITERIA`."""
    absolute_lp: bool = False
    """Draw components by |covariance| (progress or forgetting) instead of its positive part."""
    knobs: tuple[str, ...] | None = None
    """Box knobs the mixture models (None: all); the others are drawn uniformly."""


def window_points(history: Sequence[Sequence[float]]) -> np.ndarray:
    """(task..., time, reward) rows for a window of (task..., reward) rows, time = i / n.

    >>> window_points([[0.5, 0.1], [0.5, 0.3]]).tolist()
    [[0.5, 0.0, 0.1], [0.5, 0.5, 0.3]]
    """
    rows = np.asarray(history, dtype=float)
    time = np.arange(len(rows)) / len(rows)
    return np.column_stack([rows[:, :-1], time, rows[:, -1]])


@register_teacher("covar-gmm")
class CovarGMMTeacher(ContinuousTeacher):
    """Covar-GMM over the task space's arm axis (if it has arms) and its modelled box knobs."""

    config_type = CovarGMMConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_mixture_options(self.config)
        self.history: list[list[float]] = []  # (task..., reward) of the latest episodes
        self.seen = 0
        self.mixture = Mixture([], [])

    def progress(self) -> np.ndarray:
        """Each component's learning progress: its time-reward covariance, as configured."""
        cov = np.array([c[-2][-1] for c in self.mixture.covariances], dtype=float)
        return np.abs(cov) if self.config.absolute_lp else np.clip(cov, 0.0, None)

    def _sample_one(self) -> CurriculumStep:
        warm = self.seen < self.config.nb_random or not len(self.mixture)
        if warm or self.rng.random() < self.config.random_task_ratio:
            return self.uniform_step("covar-gmm: uniform" + (" warm-up" if warm else ""))
        lp = self.progress()
        probs = lp / lp.sum() if lp.sum() > 0 else np.full(len(lp), 1 / len(lp))
        idx = int(self.rng.choice(len(lp), p=probs))
        point = self.mixture.draw(idx, self.rng)[:-2]
        return self.step_at(point, f"covar-gmm: component {idx} (time-reward cov {lp[idx]:.4f})",
                            float(probs[idx]))

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Record each episode's (task, reward); refit every `fit_rate` episodes."""
        cfg = self.config
        keep = max(cfg.window or cfg.fit_rate, cfg.fit_rate)
        for outcome in outcomes:
            task = self.encode(outcome)
            if task is None:
                continue
            self.history.append([*task.tolist(), outcome.mean_reward])
            if len(self.history) > 2 * keep:
                del self.history[:-keep]
            self.seen += 1
            if self.seen >= cfg.nb_random and self.seen % cfg.fit_rate == 0:
                self._fit()

    def _fit(self) -> None:
        cfg = self.config
        x = window_points(self.history[-(cfg.window or cfg.fit_rate):])
        self.mixture = fit_mixture(x, cfg.min_components, cfg.max_components, cfg.criterion,
                                   self.rng)
        logger.debug("covar-gmm: fitted %d components at %d episodes", len(self.mixture), self.seen)

    def _state(self) -> dict[str, Any]:
        return {"history": self.history, "seen": self.seen, "means": self.mixture.means,
                "covariances": self.mixture.covariances}

    def _load(self, state: dict[str, Any]) -> None:
        self.history = [list(map(float, h)) for h in state["history"]]
        self.seen = int(state["seen"])
        self.mixture = Mixture([list(map(float, m)) for m in state["means"]], state["covariances"])
