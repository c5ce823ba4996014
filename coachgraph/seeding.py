"""One way to derive the seeds and generators of a run's parts from the run seed.

Every random draw of a graph run (problem draws, student samples, synthesized problems) comes
from a generator named by the run seed, what it is for, and where it happens (the step, the
item), so a node that LangGraph re-runs after a kill draws exactly what it drew before, and two
purposes never share a stream.
"""

from __future__ import annotations

import random

__all__ = ["derive_rng", "derive_seed"]


def derive_rng(seed: int, purpose: str, *where: int | str) -> random.Random:
    """A private generator for `purpose` at `where` (e.g. the step number) under run seed `seed`.

    >>> derive_rng(3, "teacher", 7).random() == derive_rng(3, "teacher", 7).random()
    True
    >>> derive_rng(3, "teacher", 7).random() == derive_rng(3, "student", 7).random()
    False
    """
    return random.Random(":".join(str(part) for part in (seed, purpose, *where)))


def derive_seed(seed: int, purpose: str, *where: int | str) -> int:
    """An integer seed in ``[0, 2**31)`` for a sampler that takes seeds rather than generators.

    >>> derive_seed(0, "student", 4) == derive_seed(0, "student", 4) != derive_seed(0, "student", 5)
    True
    """
    return derive_rng(seed, purpose, *where).randrange(2**31)
