"""Fusing the ranked lists of several retrievers into one ranking.

Two methods, looked up by name in `FUSIONS`:

- ``rrf``: reciprocal rank fusion, score = sum over lists of ``w / (c + rank)`` (Cormack et al.,
  2009). Needs no labels and ignores score scales. `reciprocal_rank_fusion` computes it over
  aligned score arrays (the recommender's candidate retrieval uses it directly).
- ``calibrated``: each candidate gets features from every list (its raw score, its score
  relative to the list's best, and whether it is missing), and a logistic model turns them into
  a probability of relevance. `fit` learns the model from labelled queries; before fitting it
  uses a documented prior. The output is a probability, so thresholds (a router's abstention)
  mean the same across queries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression

from coachgraph.errors import ConfigError
from coachgraph.retrieval.base import Hit

__all__ = ["FUSIONS", "CalibratedScoreFusion", "Fusion", "ReciprocalRankFusion", "create_fusion", "fusion_from_dict",
           "rank_positions", "reciprocal_rank_fusion"]

Rankings = Mapping[str, Sequence[Hit]]
"""Ranked hits by retriever name, e.g. ``{"dense": [...], "bm25": [...]}``."""


class Fusion(ABC):
    """Merges rankings from named retrievers into one list, best first."""

    name: str

    @abstractmethod
    def fuse(self, rankings: Rankings, k: int) -> list[Hit]:
        """Return up to `k` fused hits; ids absent from every list never appear."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Parameters as JSON-ready data (read back by `fusion_from_dict`)."""

    def fit(self, rankings: Sequence[Rankings], relevant: Sequence[set[str]], seed: int = 0) -> Self:
        """By default does nothing (the method has no learned parameters); returns self."""
        return self


def rank_positions(scores: np.ndarray) -> np.ndarray:
    """The rank of each score, 1 for the best, ties broken by position (float32).

    >>> rank_positions(np.array([0.2, 0.9, 0.2])).tolist()
    [2.0, 1.0, 3.0]
    """
    ranks = np.empty(len(scores), np.float32)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1, dtype=np.float32)
    return ranks


def reciprocal_rank_fusion(ranks: Sequence[np.ndarray], c: float = 60.0,
                           weights: Sequence[float] | None = None) -> np.ndarray:
    """Sum over lists of ``w / (c + rank)``; `ranks` holds one rank array per list, aligned over
    the same items (``inf`` where a list lacks an item, which then adds nothing). The result has
    the ranks' float type.

    >>> reciprocal_rank_fusion([np.array([1.0, 2.0]), np.array([2.0, np.inf])], c=0.0).tolist()
    [1.5, 0.5]
    """
    weights = [1.0] * len(ranks) if weights is None else weights
    terms = [w / (c + r) for w, r in zip(weights, ranks, strict=True)]
    if not terms:
        return np.zeros(0)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _top(scores: Mapping[str, float], k: int) -> list[Hit]:
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [Hit(i, float(s)) for i, s in ordered[:k]]


class ReciprocalRankFusion(Fusion):
    """RRF with a rank constant `c` and optional weights per retriever name (default 1)."""

    name = "rrf"

    def __init__(self, c: float = 60.0, weights: Mapping[str, float] | None = None) -> None:
        self.c = c
        self.weights = dict(weights or {})

    def fuse(self, rankings: Rankings, k: int) -> list[Hit]:
        ids = list(dict.fromkeys(hit.id for hits in rankings.values() for hit in hits))
        pos = {item: n for n, item in enumerate(ids)}
        ranks = []
        for hits in rankings.values():
            rank = np.full(len(ids), np.inf)
            rank[[pos[hit.id] for hit in hits]] = np.arange(1, len(hits) + 1)
            ranks.append(rank)
        weights = [self.weights.get(source, 1.0) for source in rankings]
        return _top(dict(zip(ids, reciprocal_rank_fusion(ranks, self.c, weights).tolist(), strict=True)), k)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "c": self.c, "weights": self.weights}


class CalibratedScoreFusion(Fusion):
    """Logistic fusion of per-list features into a probability of relevance.

    Args:
        sources: retriever names, in feature order.
        coef: one weight per feature (3 per source: raw, relative, missing).
        intercept: the logistic bias.
        c: inverse regularisation strength used by `fit`.
    """

    name = "calibrated"

    def __init__(self, sources: Sequence[str] = ("dense", "bm25"), coef: Sequence[float] | None = None, intercept: float = -4.0, c: float = 1.0) -> None:
        self.sources = list(sources)
        self.coef = np.asarray(coef if coef is not None else self._prior(), dtype=np.float64)
        self.intercept = float(intercept)
        self.c = c
        if self.coef.shape != (3 * len(self.sources),):
            raise ConfigError(f"calibrated fusion needs {3 * len(self.sources)} coefficients, got {self.coef.shape[0]}")

    def _prior(self) -> list[float]:
        # A raw cosine of 0.5 at the top of its list gives about even odds; a lexical match at
        # the top of its list adds to that; being missing from a list counts against.
        prior = {"dense": [6.0, 1.0, -1.0], "bm25": [0.0, 2.0, -1.0]}
        return [w for s in self.sources for w in prior.get(s, [0.0, 2.0, -1.0])]

    def features(self, rankings: Rankings) -> tuple[list[str], np.ndarray]:
        """Candidate ids (union of the lists) and their ``(n, 3 * n_sources)`` feature rows."""
        ids = sorted({h.id for hits in rankings.values() for h in hits})
        pos = {item: n for n, item in enumerate(ids)}
        feats = np.zeros((len(ids), 3 * len(self.sources)))
        for s, source in enumerate(self.sources):
            feats[:, 3 * s : 3 * s + 3] = self._source_features(rankings.get(source, []), pos)
        return ids, feats

    @staticmethod
    def _source_features(hits: Sequence[Hit], pos: Mapping[str, int]) -> np.ndarray:
        block = np.zeros((len(pos), 3))
        floor = min((h.score for h in hits), default=0.0)
        best = max((h.score for h in hits), default=1.0) or 1.0
        block[:, 0], block[:, 1], block[:, 2] = floor, floor / best, 1.0
        for hit in hits:
            block[pos[hit.id]] = (hit.score, hit.score / best, 0.0)
        return block

    def probabilities(self, feats: np.ndarray) -> np.ndarray:
        """Probability of relevance for each feature row."""
        return 1.0 / (1.0 + np.exp(-(feats @ self.coef + self.intercept)))

    def fuse(self, rankings: Rankings, k: int) -> list[Hit]:
        ids, feats = self.features(rankings)
        return _top(dict(zip(ids, self.probabilities(feats).tolist(), strict=True)), k) if ids else []

    def fit(self, rankings: Sequence[Rankings], relevant: Sequence[set[str]], seed: int = 0) -> Self:
        """Learn the logistic model from candidate pools of labelled queries (Platt scaling)."""
        rows, labels = [], []
        for ranking, gold in zip(rankings, relevant, strict=True):
            ids, feats = self.features(ranking)
            rows.append(feats)
            labels.extend(int(i in gold) for i in ids)
        model = LogisticRegression(C=self.c, max_iter=1000, random_state=seed)
        model.fit(np.vstack(rows), np.asarray(labels))
        self.coef, self.intercept = model.coef_[0].astype(np.float64), float(model.intercept_[0])
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sources": self.sources, "coef": self.coef.tolist(), "intercept": self.intercept, "c": self.c}


FUSIONS: dict[str, type[Fusion]] = {cls.name: cls for cls in (ReciprocalRankFusion, CalibratedScoreFusion)}
"""Fusion methods by name."""


def create_fusion(name: str, **options: Any) -> Fusion:
    """Build the fusion method registered as `name`."""
    try:
        return FUSIONS[name](**options)
    except KeyError:
        raise ConfigError(f"unknown fusion {name!r}; known: {', '.join(sorted(FUSIONS))}") from None


def fusion_from_dict(data: Mapping[str, Any]) -> Fusion:
    """Rebuild a fusion from `Fusion.to_dict` output."""
    options = {k: v for k, v in data.items() if k != "name"}
    return create_fusion(str(data.get("name")), **options)
