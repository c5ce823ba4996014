"""ALP-GMM: sample continuous task parameters where absolute learning progress is high.

A Gaussian mixture is fitted on recent (task, ALP) points; each component's mean ALP says how
much the student is changing in that region, so drawing components in proportion to it steers
practice to where learning (or forgetting) happens, while a share of uniform draws keeps looking
for new progress elsewhere. Arms and knobs form the task vector as `ContinuousTeacher` says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.alp import ALPComputer
from coachgraph.curriculum.continuous import ContinuousTeacher
from coachgraph.curriculum.mixture import CRITERIA, Mixture, fit_mixture
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["ALPGMMConfig", "ALPGMMTeacher"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ALPGMMConfig:
    """Options of ALP-GMM (defaults of the original teacher)."""

    fit_rate: int = 250
    """Episodes between GMM fits; each fit uses the last `fit_rate` (task, ALP) points."""
    nb_random: int = 250
    """Episodes of uniform sampling before the first fit."""
    min_components: int = 2
    """Smallest number of Gaussians tried."""
    max_components: int = 10
    """Largest number of Gaussians tried."""
    random_task_ratio: float = 0.2
    """Share of tasks drawn uniformly even once a GMM is fitted."""
    criterion: str = "aic"
    """Model-selection criterion among `CRITERIA`."""
    alp_min_history: int = 5
    """ALP is 0 until more than this many episodes are stored."""
    alp_max_size: int | None = None
    """Search the nearest earlier task among the last this many episodes (None: all)."""
    knobs: tuple[str, ...] | None = None
    """Box knobs the mixture models (None: all); the others are drawn uniformly."""


def check_mixture_options(config: Any) -> None:
    """Reject a component range or criterion that no fit could use."""
    if not 1 <= config.min_components <= config.max_components:
        raise ValueError("need 1 <= min_components <= max_components")
    if config.criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {config.criterion!r}; known: {sorted(CRITERIA)}")


@register_teacher("alp-gmm")
class ALPGMMTeacher(ContinuousTeacher):
    """ALP-GMM over the task space's arm axis (if it has arms) and its modelled box knobs."""

    config_type = ALPGMMConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_mixture_options(self.config)
        cfg = self.config
        self.alp = ALPComputer(self.dims, cfg.alp_min_history, cfg.alp_max_size)
        self.points: list[list[float]] = []
        self.mixture = Mixture([], [])

    @property
    def means(self) -> list[list[float]]:
        """Component means over (task, ALP); empty before the first fit."""
        return self.mixture.means

    def set_mixture(self, means: list[list[float]], covariances: list[list[list[float]]]) -> None:
        """Use this mixture over (task, ALP) for sampling."""
        self.mixture = Mixture(means, covariances)

    def _sample_one(self) -> CurriculumStep:
        warm = len(self.points) < self.config.nb_random or not self.means
        if warm or self.rng.random() < self.config.random_task_ratio:
            return self.uniform_step("alp-gmm: uniform" + (" warm-up" if warm else ""))
        alps = np.clip(np.array([m[-1] for m in self.means]), 0.0, None)
        probs = alps / alps.sum() if alps.sum() > 0 else np.full(len(alps), 1 / len(alps))
        idx = int(self.rng.choice(len(alps), p=probs))
        point = self.mixture.draw(idx, self.rng)[:-1]
        return self.step_at(point, f"alp-gmm: component {idx} (mean ALP {alps[idx]:.3f})",
                            float(probs[idx]))

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Add each episode's (task, ALP) point; refit every `fit_rate` episodes."""
        for outcome in outcomes:
            task = self.encode(outcome)
            if task is None:
                continue
            alp = self.alp.add(task, outcome.mean_reward)
            self.points.append([*task.tolist(), alp])
            n = len(self.points)
            if n >= self.config.nb_random and n % self.config.fit_rate == 0:
                self._fit()

    def _fit(self) -> None:
        cfg = self.config
        x = np.asarray(self.points[-cfg.fit_rate:], dtype=float)
        self.mixture = fit_mixture(x, cfg.min_components, cfg.max_components, cfg.criterion,
                                   self.rng)
        logger.debug("alp-gmm: fitted %d components at %d episodes", len(self.mixture), len(x))

    def _state(self) -> dict[str, Any]:
        return {"alp": self.alp.state(), "points": self.points, "means": self.means,
                "covariances": self.mixture.covariances}

    def _load(self, state: dict[str, Any]) -> None:
        self.alp.load(state["alp"])
        self.points = [list(map(float, p)) for p in state["points"]]
        self.set_mixture([list(map(float, m)) for m in state["means"]], state["covariances"])
