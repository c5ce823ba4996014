"""Ranking metrics over string ids: Recall@k and nDCG@k with binary relevance.

>>> recall_at_k(["a", "b", "c"], {"a", "z"}, 2)
0.5
>>> round(ndcg_at_k(["x", "a"], {"a"}, 2), 4)
0.6309
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["ndcg_at_k", "recall_at_k"]


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant ids found in the first `k` (0 when nothing is relevant)."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Normalised discounted cumulative gain of the first `k` with 0/1 gains."""
    gain = sum(1.0 / math.log2(r + 2) for r, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0
