"""Training a store's recommender: the one writer of its model file.

`train_store` fits a recommender on every trace of a store and writes it beside the store (or
under the cache folder for a server DSN); `ensure_model` trains one where a store has none.
`RecommendService` only loads what these write.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from langchain_core.embeddings import Embeddings

from coachgraph.calltree.stores import open_store
from coachgraph.config import Settings
from coachgraph.errors import InputError
from coachgraph.recommend.checkpoint import (
    ModelFileError,
    ModelInfo,
    model_file,
    read_info,
    save_recommender,
)
from coachgraph.recommend.fitting import fit_recommender
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.service import RecommendService

__all__ = ["ensure_model", "open_service", "retrain_hint", "train_store"]

logger = logging.getLogger(__name__)


def retrain_hint(location: str) -> str:
    """The command that retrains the model of the store at `location`."""
    return f"retrain it with: coachgraph recommend train --store {location}"


def train_store(location: str, settings: Settings | None = None, *, embeddings: Embeddings | None = None,
                config: RecommenderConfig | None = None, seed: int = 0) -> ModelInfo:
    """Fit a recommender on every trace of the store at `location` and write its model file.

    `embeddings` replaces the embedder that `settings.default_embeddings` names (its vectors are
    recorded under that name); `seed` seeds the scorer's weights.

    Raises:
        InputError: the store holds no traces.
    """
    settings = settings or Settings.from_env()
    path = model_file(location, settings.cache)
    with open_store(location, read_only=True) as store:
        ids = store.trace_ids()
        if not ids:
            raise InputError("the store holds no traces to learn from", source=location)
        if embeddings is None:
            from coachgraph.models import load_embeddings

            embeddings = load_embeddings(settings.default_embeddings)
        cfg = replace(config or RecommenderConfig(), seed=seed)
        rec = fit_recommender(store, ids, embeddings, cfg, path.parent, settings.default_embeddings)
    save_recommender(rec, path, embeddings=settings.default_embeddings)
    logger.info("recommender trained on %d traces saved to %s", len(ids), path)
    return read_info(path, settings.default_embeddings)


def ensure_model(location: str, settings: Settings | None = None, *, embeddings: Embeddings | None = None,
                 config: RecommenderConfig | None = None, seed: int = 0) -> ModelInfo:
    """Make sure the store at `location` has a model this release can serve, training one where
    it has none (the first query trains); returns what the model says about itself.

    Raises:
        ModelFileError: the store's model file cannot be served (an older release's, for
            instance); the message says how to retrain it.
    """
    settings = settings or Settings.from_env()
    try:
        return read_info(model_file(location, settings.cache), settings.default_embeddings)
    except ModelFileError as exc:
        if exc.reason != "missing":
            raise ModelFileError(f"{exc.detail}; {retrain_hint(location)}", path=exc.path, reason=exc.reason) from None
    logger.info("training the recommender of %s: it has none", location)
    return train_store(location, settings, embeddings=embeddings, config=config, seed=seed)


def open_service(location: str, settings: Settings | None = None, *, embeddings: Embeddings | None = None,
                 config: RecommenderConfig | None = None, seed: int = 0) -> RecommendService:
    """`ensure_model`, then the `RecommendService` over the store's model (one call for a script
    or an orchestrator)."""
    settings = settings or Settings.from_env()
    ensure_model(location, settings, embeddings=embeddings, config=config, seed=seed)
    return RecommendService(location, settings, embeddings=embeddings)
