"""Ranking methods compared in one harness: baselines and the learned scorers, by name.

Every method ranks the same encoded decisions (the same retrieved candidates and features); a
method is a class with `fit(train, vocab_size)` and `scores(data) -> (N, C)`. Feature-based
baselines read one column of the shared features; the paper's linear scorer uses its three
factors (relevance, historical reliability, cooperation) only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from coachgraph.recommend.features import feature_names
from coachgraph.recommend.fitting import fit_chosen, fit_scorer
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.sasrec import SASRec, SASRecConfig
from coachgraph.recommend.train import Encoded, batch_tensors, train

__all__ = ["METHODS", "LEARNED", "Method", "PAPER_COLUMNS", "register_method"]

PAPER_COLUMNS = ("relevance.dense", "relevance.bm25_norm", "reliability.success_rate",
                 "reliability.log_calls", "interaction.logp_parent", "interaction.pmi_ancestor_max")
"""The reference linear scorer's factors: relevance, reliability and cooperation."""

LEARNED = "coach"
"""Name of the learned scorer every other method is compared with."""


def _cols(names: tuple[str, ...]) -> np.ndarray:
    all_names = feature_names()
    return np.array([all_names.index(n) for n in names])


def _masked(data: Encoded, s: np.ndarray) -> np.ndarray:
    return np.where(data.mask, s, -np.inf).astype(np.float32)


class Method:
    """A ranking method; by default scores with a weighted sum of feature columns."""

    weights: dict[str, float] = {}

    def __init__(self, config: RecommenderConfig) -> None:
        self.config = config

    def fit(self, data: Encoded, n_items: int) -> None:
        """Learn from training decisions; by default nothing to learn."""

    def scores(self, data: Encoded) -> np.ndarray:
        """Scores ``(N, C)``, -inf at padding; by default the weighted feature sum."""
        cols = _cols(tuple(self.weights))
        return _masked(data, data.feats[..., cols] @ np.array(list(self.weights.values()), np.float32))


METHODS: dict[str, type[Method]] = {}
"""Methods by name."""


def register_method(name: str) -> Callable[[type[Method]], type[Method]]:
    """Register a `Method` under `name`."""
    def decorate(cls: type[Method]) -> type[Method]:
        METHODS[name] = cls
        return cls
    return decorate


@register_method("popularity")
class Popularity(Method):
    """How often each candidate was called in training."""

    weights = {"reliability.log_calls": 1.0}


@register_method("markov")
class Markov(Method):
    """The most frequent transition from the calling parent (popularity breaks ties)."""

    weights = {"interaction.logp_parent": 1.0, "reliability.log_calls": 1e-3}


@register_method("dense")
class Dense(Method):
    """Cosine similarity of the candidate's description to the task and subtask."""

    weights = {"relevance.dense": 1.0}


@register_method("bm25")
class Lexical(Method):
    """BM25 of the candidate's description for the task and subtask."""

    weights = {"relevance.bm25_log": 1.0}


@register_method("paper-linear-untrained")
class PaperUntrained(Method):
    """The reference factors, standardised on training data and summed with equal weights."""

    def fit(self, data: Encoded, n_items: int) -> None:
        flat = data.feats[..., _cols(PAPER_COLUMNS)][data.mask]
        self.mean, self.std = flat.mean(0), flat.std(0) + 1e-4

    def scores(self, data: Encoded) -> np.ndarray:
        x = (data.feats[..., _cols(PAPER_COLUMNS)] - self.mean) / self.std  # (N, C, 6)
        return _masked(data, x.sum(-1))


class _Learned(Method):
    """A `Scorer` of one architecture trained on some feature columns."""

    arch = "mlp"
    columns: tuple[str, ...] = ()
    seeds: int | None = None
    """Scorers averaged (`None`: as the config says)."""

    def fit(self, data: Encoded, n_items: int) -> None:
        cols = _cols(self.columns) if self.columns else np.arange(data.feats.shape[-1])
        self.cols = cols
        config = replace(self.config, arch=self.arch, seeds=self.seeds or self.config.seeds)
        self.model, _ = fit_scorer(data, cols, config, n_items)

    @torch.no_grad()
    def scores(self, data: Encoded) -> np.ndarray:
        view = data.with_feats(data.feats[..., self.cols])
        return np.concatenate([self.model(batch_tensors(view, slice(lo, lo + 1024)))[0].numpy()
                               for lo in range(0, len(view), 1024)])


@register_method("paper-linear")
class PaperLinear(_Learned):
    """The reference linear scorer, trained with the listwise loss (one scorer, as published)."""

    arch, columns, seeds = "linear", PAPER_COLUMNS, 1


@register_method("sasrec")
class SASRecMethod(Method):
    """Self-attention over the call path, item ids only."""

    @torch.no_grad()
    def scores(self, data: Encoded) -> np.ndarray:
        return np.concatenate([self.model(batch_tensors(data, slice(lo, lo + 1024)))[0].numpy()
                               for lo in range(0, len(data), 1024)])

    def fit(self, data: Encoded, n_items: int) -> None:
        self.model = SASRec(SASRecConfig(n_items=n_items, seed=self.config.seed))
        train(self.model, data, self.config.train)


@register_method("coach-linear")
class CoachLinear(_Learned):
    """Ablation: a linear scorer over all our features."""

    arch = "linear"


@register_method("coach-seq")
class CoachSeq(_Learned):
    """Ablation: the learned scorer plus item embeddings and the path encoder."""

    arch = "seq"


@register_method(LEARNED)
class Coach(_Learned):
    """The learned scorer: linear plus an MLP over all features (their crosses), plus item
    embeddings and a path encoder, or the linear part alone, where that ranks held-out training
    traces better (see `fitting.choose_arch`)."""

    arch = "mlp"

    def fit(self, data: Encoded, n_items: int) -> None:
        self.cols = np.arange(data.feats.shape[-1])
        self.model, _ = fit_chosen(data, self.cols, replace(self.config, arch=self.arch), n_items)
