"""Intervals for success rates: Wilson for one rate, a paired bootstrap for the difference of two
policies on the same tasks."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence

__all__ = ["paired_difference", "wilson"]

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95% by default); (0, 1) without trials.

    >>> [round(x, 3) for x in wilson(8, 10)]
    [0.49, 0.943]
    """
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_difference(a: Sequence[bool], b: Sequence[bool], *, resamples: int = 4000,
                      seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a - b`` over paired outcomes (the same tasks), with a 95% percentile bootstrap
    interval over tasks.

    >>> mean, low, high = paired_difference([True] * 9 + [False], [False] * 8 + [True] * 2)
    >>> round(mean, 2), low > 0
    (0.7, True)
    """
    if len(a) != len(b):
        raise ValueError(f"paired outcomes need equal lengths, got {len(a)} and {len(b)}")
    diffs = [int(x) - int(y) for x, y in zip(a, b, strict=True)]
    if not diffs:
        return 0.0, 0.0, 0.0
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(diffs, k=len(diffs))) for _ in range(resamples))
    return statistics.fmean(diffs), means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]
