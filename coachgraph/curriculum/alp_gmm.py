"""ALP-GMM: sample continuous task parameters where absolute learning progress is high.

A Gaussian mixture is fitted on recent (task, ALP) points; each component's mean ALP says how
much the student is changing in that region, so drawing components in proportion to it steers
practice to where learning (or forgetting) happens, while a share of uniform draws keeps looking
for new progress elsewhere.

Discrete arms (skills) join the task vector as one more coordinate: arm i of the space's ordered
arm list covers [i, i + 1), so a mixture component over that axis picks out a run of neighbouring
skills (skill lists are ordered by difficulty) and the arm is drawn from it like any knob. Box
knobs left out of the model (`knobs`) are drawn uniformly.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from coachgraph.curriculum.alp import ALPComputer
from coachgraph.curriculum.base import Teacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["CRITERIA", "ALPGMMConfig", "ALPGMMTeacher", "gmm_parameter_count"]

logger = logging.getLogger(__name__)


def gmm_parameter_count(k: int, d: int) -> int:
    """Free parameters of a full-covariance GMM: covariances, means and k-1 weights.

    >>> gmm_parameter_count(2, 3)   # 2*6 + 2*3 + 1
    19
    """
    return k * d * (d + 1) // 2 + k * d + k - 1


def _aicc(gmm: GaussianMixture, x: np.ndarray) -> float:
    p, n = gmm_parameter_count(gmm.n_components, x.shape[1]), len(x)
    return float(gmm.aic(x)) + 2 * p * (p + 1) / max(n - p - 1, 1)


CRITERIA: dict[str, Callable[[GaussianMixture, np.ndarray], float]] = {
    "aic": lambda gmm, x: float(gmm.aic(x)),
    "bic": lambda gmm, x: float(gmm.bic(x)),
    "aicc": _aicc,
}
"""Model-selection criteria by name; the lowest value wins."""


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


@register_teacher("alp-gmm")
class ALPGMMTeacher(Teacher):
    """ALP-GMM over the task space's arm axis (if it has arms) and its modelled box knobs."""

    config_type = ALPGMMConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not 1 <= self.config.min_components <= self.config.max_components:
            raise ValueError("need 1 <= min_components <= max_components")
        if self.config.criterion not in CRITERIA:
            raise ValueError(f"unknown criterion {self.config.criterion!r}; known: {sorted(CRITERIA)}")
        cfg = self.config
        names = [name for name, _, _ in self.space.box]
        unknown = set(cfg.knobs or ()) - set(names)
        if unknown:
            raise ValueError(f"ALP-GMM knobs {sorted(unknown)} are not in the box {names}")
        self.knobs = [i for i, name in enumerate(names) if cfg.knobs is None or name in cfg.knobs]
        self.free = [i for i in range(len(names)) if i not in self.knobs]
        if not self.knobs and not self.space.arms:
            raise ValueError("ALP-GMM needs arms or a box knob to model")
        arms = len(self.space.arms)
        self.low = np.concatenate([[0.0] if arms else [], self.space.low[self.knobs]])
        self.high = np.concatenate([[float(arms)] if arms else [], self.space.high[self.knobs]])
        self.alp = ALPComputer(len(self.low), cfg.alp_min_history, cfg.alp_max_size)
        self.points: list[list[float]] = []
        self.means: list[list[float]] = []
        self.covariances: list[list[list[float]]] = []
        self._factors: list[np.ndarray] = []

    def set_mixture(self, means: list[list[float]], covariances: list[list[list[float]]]) -> None:
        """Use this mixture over (task, ALP) for sampling; Cholesky factors are kept for speed."""
        self.means, self.covariances = means, covariances
        self._factors = [np.linalg.cholesky(np.asarray(c, dtype=float)) for c in covariances]

    def _sample_one(self) -> CurriculumStep:
        warm = len(self.points) < self.config.nb_random or not self.means
        if warm or self.rng.random() < self.config.random_task_ratio:
            arms = self.available_arms()
            arm = str(arms[self.rng.integers(len(arms))]) if arms else ""
            return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng),
                                  reason="alp-gmm: uniform" + (" warm-up" if warm else ""))
        return self._from_gmm()

    def _from_gmm(self) -> CurriculumStep:
        alps = np.clip(np.array([m[-1] for m in self.means]), 0.0, None)
        probs = alps / alps.sum() if alps.sum() > 0 else np.full(len(alps), 1 / len(alps))
        idx = int(self.rng.choice(len(alps), p=probs))
        noise = self._factors[idx] @ self.rng.standard_normal(len(self.means[idx]))
        task = np.clip((np.asarray(self.means[idx]) + noise)[:-1], self.low, self.high)
        arm, modelled = (self._arm_at(float(task[0])), task[1:]) if self.space.arms else ("", task)
        knobs = self.space.low.copy()
        if self.free:  # knobs left out of the mixture are drawn uniformly
            knobs[self.free] = self.rng.uniform(self.space.low[self.free], self.space.high[self.free])
        knobs[self.knobs] = modelled
        return CurriculumStep(skill=arm, difficulty=self.space.point(knobs), weight=float(probs[idx]),
                              reason=f"alp-gmm: component {idx} (mean ALP {alps[idx]:.3f})")

    def _arm_at(self, position: float) -> str:
        """The arm whose cell holds `position`, or the available arm nearest to it."""
        available = set(self.available_arms())
        cells = [(abs(i + 0.5 - position), i) for i, a in enumerate(self.space.arms) if a in available]
        return self.space.arms[min(cells)[1]]

    def _task(self, outcome: Outcome) -> np.ndarray | None:
        """An outcome's task vector: its arm's cell centre (with arms), then the box knobs; None
        for an outcome of a category that is not an arm (nothing this teacher chose)."""
        knobs = self.space.vector(outcome.difficulty)[self.knobs]
        if not self.space.arms:
            return knobs
        if outcome.category not in self.space.arms:
            return None
        return np.concatenate([[self.space.arms.index(outcome.category) + 0.5], knobs])

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Add each episode's (task, ALP) point; refit every `fit_rate` episodes."""
        for outcome in outcomes:
            task = self._task(outcome)
            if task is None:
                continue
            alp = self.alp.add(task, outcome.mean_reward)
            self.points.append([*task.tolist(), alp])
            n = len(self.points)
            if n >= self.config.nb_random and n % self.config.fit_rate == 0:
                self._fit()

    def _fit(self) -> None:
        """Fit GMMs of every size on the last `fit_rate` points and keep the best by criterion."""
        x = np.asarray(self.points[-self.config.fit_rate:], dtype=float)
        score = CRITERIA[self.config.criterion]
        fits = []
        largest = min(self.config.max_components, len(x))  # a mixture needs a point per component
        for k in range(min(self.config.min_components, largest), largest + 1):
            gmm = GaussianMixture(k, covariance_type="full", n_init=1,
                                  random_state=int(self.rng.integers(2**31 - 1)))
            # BLAS threads only add contention on these tiny matrices (100x slower on 2 busy cores).
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore", ConvergenceWarning)
                gmm.fit(x)
            fits.append((score(gmm, x), k, gmm))
        best = min(fits, key=lambda f: (f[0], f[1]))[2]
        self.set_mixture(best.means_.tolist(), best.covariances_.tolist())
        logger.debug("alp-gmm: fitted %d components at %d episodes", best.n_components, len(x))

    def _state(self) -> dict[str, Any]:
        return {"alp": self.alp.state(), "points": self.points, "means": self.means,
                "covariances": self.covariances}

    def _load(self, state: dict[str, Any]) -> None:
        self.alp.load(state["alp"])
        self.points = [list(map(float, p)) for p in state["points"]]
        self.set_mixture([list(map(float, m)) for m in state["means"]], state["covariances"])
