"""Gaussian mixtures for the mixture-based teachers (ALP-GMM, Covar-GMM): model selection over
the number of components, and fast draws from one component."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

__all__ = ["CRITERIA", "Mixture", "fit_mixture", "gmm_parameter_count"]


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


class Mixture:
    """Means and full covariances of a fitted mixture, with Cholesky factors kept for draws."""

    def __init__(self, means: list[list[float]], covariances: list[list[list[float]]]) -> None:
        self.means = means
        self.covariances = covariances
        self._factors = [np.linalg.cholesky(np.asarray(c, dtype=float)) for c in covariances]

    def __len__(self) -> int:
        return len(self.means)

    def draw(self, component: int, rng: np.random.Generator) -> np.ndarray:
        """One point from component `component`."""
        noise = self._factors[component] @ rng.standard_normal(len(self.means[component]))
        return np.asarray(self.means[component]) + noise


def fit_mixture(x: np.ndarray, min_components: int, max_components: int, criterion: str,
                rng: np.random.Generator) -> Mixture:
    """Fit full-covariance GMMs of every size in range on `x`; keep the best by `criterion`."""
    score = CRITERIA[criterion]
    fits = []
    largest = min(max_components, len(x))  # a mixture needs a point per component
    for k in range(min(min_components, largest), largest + 1):
        gmm = GaussianMixture(k, covariance_type="full", n_init=1,
                              random_state=int(rng.integers(2**31 - 1)))
        # BLAS threads only add contention on these tiny matrices (100x slower on 2 busy cores).
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            gmm.fit(x)
        fits.append((score(gmm, x), k, gmm))
    best = min(fits, key=lambda f: (f[0], f[1]))[2]
    return Mixture(best.means_.tolist(), best.covariances_.tolist())
