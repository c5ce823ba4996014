"""The re-ranking hook run after fusion: any callable ``(query, hits) -> hits``.

A cross-encoder, an LLM judge or a learned recommender scorer plugs in here. `PriorReranker`
is the built-in one: it blends the retrieval score with a prior per id, e.g. a skill's
measured utility, so that skills that work rise above near-ties that do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from coachgraph.retrieval.base import Hit

__all__ = ["PriorReranker", "Reranker"]


class Reranker(Protocol):
    """Re-orders (and may re-score or drop) fused hits for a query."""

    def __call__(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


class PriorReranker:
    """Score = ``(1 - weight) * retrieval score + weight * prior(id)``; order by that.

    Args:
        prior: a value in [0, 1] per id (unknown ids should get a neutral value such as 0.5).
        weight: how much the prior counts.
    """

    def __init__(self, prior: Callable[[str], float], weight: float = 0.2) -> None:
        self.prior = prior
        self.weight = weight

    def __call__(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        blended = [Hit(h.id, (1 - self.weight) * h.score + self.weight * self.prior(h.id)) for h in hits]
        return sorted(blended, key=lambda h: (-h.score, h.id))
