"""The recommender an orchestrate run chooses teams with, retrained on the run's store and reloaded.

`RecommenderHandle` holds the `RecommendService` of the run's store. Retraining writes a new
model file beside the store (`train_store`) and the service reloads it in place, so the next
choices use the new scores without restarting anything. Before the store holds any trace there
is no model, and choices go by the calling trees' evidence alone.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import networkx as nx
from langchain_core.embeddings import Embeddings

from coachgraph.config import Settings
from coachgraph.graphs.orchestrate.team_search import interaction_graph
from coachgraph.recommend import (
    ModelFileError,
    ModelInfo,
    Recommendation,
    RecommenderConfig,
    RecommendService,
    ScorerTrainConfig,
    train_store,
)

__all__ = ["RecommenderHandle", "run_recommender_config"]

logger = logging.getLogger(__name__)

NO_TIME_LIMIT = 1e9
"""Wall-time limit of a run's retraining, in seconds: in effect none."""


def run_recommender_config(arch: str, steps: int, seed: int) -> RecommenderConfig:
    """How a run retrains: one scorer of `arch` with at least `steps` optimiser steps (a run's
    store is small and grows between retrainings, so no architecture search or seed ensemble).

    Training is bounded by steps, not by wall time, so a run's models, and the teams they pick,
    are the same on a busy machine and when a resumed run retrains again.
    """
    return RecommenderConfig(arch=arch, arch_choices=(), seeds=1, seed=seed,
                             train=replace(ScorerTrainConfig(), min_steps=steps, max_seconds=NO_TIME_LIMIT, seed=seed))


class RecommenderHandle:
    """The run's recommender: loaded when the store has a model, retrained on demand.

    Args:
        location: the store of the run's team traces (and of the corpora copied into it).
        embeddings: the embedder of catalogue items and queries.
        settings: where model files of a DSN store go, and the embeddings' name.
        config: how each retraining fits the recommender.
    """

    def __init__(self, location: str, embeddings: Embeddings, settings: Settings, config: RecommenderConfig) -> None:
        self.location, self.embeddings, self.settings, self.config = location, embeddings, settings, config
        self.service = self._open()

    def _open(self) -> RecommendService | None:
        try:
            return RecommendService(self.location, self.settings, embeddings=self.embeddings)
        except ModelFileError as err:
            if err.reason == "missing":
                return None
            raise

    def retrain(self) -> ModelInfo:
        """Fit the recommender on every trace of the store, write it, and serve it from now on."""
        info = train_store(self.location, self.settings, embeddings=self.embeddings, config=self.config,
                           seed=self.config.seed)
        if self.service is None:
            self.service = self._open()
        else:
            self.service.reload(force=True)
        logger.info("recommender retrained on %d traces", info.traces)
        return info

    def rank(self, question: str, names: list[str], k: int | None = None) -> list[Recommendation]:
        """The recommender's ranking of `names` for `question` (empty without a model)."""
        if self.service is None or not names:
            return []
        return self.service.next(task=question, candidates=names, k=k or len(names))

    def scores(self, question: str, names: list[str]) -> dict[str, float] | None:
        """Probability of each of `names` for `question` (None without a model)."""
        ranked = self.rank(question, names)
        return {r.name: r.probability for r in ranked} if ranked else None

    def compatibility(self) -> nx.Graph | None:
        """The learned interaction graph of the members (None without a model)."""
        return interaction_graph(self.service.stats) if self.service is not None else None
