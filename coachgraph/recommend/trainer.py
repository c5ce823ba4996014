"""Training a store's recommender and keeping it fresh: the one writer of its model file.

`train_store` fits a recommender on every trace of a store and writes it beside the store (or
under the cache folder for a server DSN). `ensure_model` makes sure a store has a model that can
serve it: it trains one where there is none, and decides by a `StalePolicy` what happens when
the model is outdated (written by an older release, for another feature set or other
embeddings) or the store has changed since training (new, changed or removed traces).
`RecommendService` only loads what these write.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from enum import StrEnum

from langchain_core.embeddings import Embeddings

from coachgraph.calltree.stores import open_store
from coachgraph.config import Settings
from coachgraph.errors import CoachgraphError, InputError
from coachgraph.recommend.checkpoint import (
    ModelFileError,
    ModelInfo,
    model_file,
    read_info,
    save_recommender,
)
from coachgraph.recommend.fingerprint import Freshness, compare, store_fingerprint
from coachgraph.recommend.fitting import fit_recommender
from coachgraph.recommend.progress import FINGERPRINT, Progress, report
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.service import WATCH_S, RecommendService

__all__ = ["StaleModelError", "StalePolicy", "ensure_model", "open_service", "retrain_hint", "train_store"]

logger = logging.getLogger(__name__)


class StalePolicy(StrEnum):
    """What a query does when the store has changed since its model was trained."""

    RETRAIN = "retrain"
    """Train again on the store as it is now (minutes on a large store), then answer."""
    WARN = "warn"
    """Answer with the model as trained; the caller is told how the store changed."""
    REFUSE = "refuse"
    """Answer nothing: raise `StaleModelError`, which says how to retrain."""


class StaleModelError(CoachgraphError):
    """The store has changed since its model was trained, and the policy was to refuse."""


def retrain_hint(location: str) -> str:
    """The command that retrains the model of the store at `location`."""
    return f"retrain it with: coachgraph recommend train --store {location}"


def train_store(location: str, settings: Settings | None = None, *, embeddings: Embeddings | None = None,
                config: RecommenderConfig | None = None, seed: int = 0,
                progress: Progress | None = None) -> ModelInfo:
    """Fit a recommender on every trace of the store at `location` and write its model file.

    `embeddings` replaces the embedder that `settings.default_embeddings` names (its vectors are
    recorded under that name); `seed` seeds the scorer's weights.

    Raises:
        InputError: the store holds no traces.
    """
    settings = settings or Settings.from_env()
    path = model_file(location, settings.cache)
    with open_store(location, read_only=True) as store:
        report(progress, FINGERPRINT, 0, 1)
        content = store_fingerprint(store)
        ids = store.trace_ids()
        report(progress, FINGERPRINT, 1, 1)
        if not ids:
            raise InputError("the store holds no traces to learn from", source=location)
        if embeddings is None:
            from coachgraph.models import load_embeddings

            embeddings = load_embeddings(settings.default_embeddings)
        cfg = replace(config or RecommenderConfig(), seed=seed)
        rec = fit_recommender(store, ids, embeddings, cfg, path.parent, settings.default_embeddings, progress)
    save_recommender(rec, path, embeddings=settings.default_embeddings, store=content)
    logger.info("recommender trained on %d traces saved to %s", content.traces, path)
    return read_info(path, settings.default_embeddings)


def ensure_model(location: str, settings: Settings | None = None, *, if_stale: StalePolicy = StalePolicy.RETRAIN,
                 embeddings: Embeddings | None = None, config: RecommenderConfig | None = None, seed: int = 0,
                 progress: Progress | None = None) -> Freshness:
    """Make sure the store at `location` has a model that can serve it, and say how fresh it is.

    A store with no model is trained (the first query trains). An outdated model (see
    `ModelFileError.retrainable`) and a store that changed since training are retrained under
    `StalePolicy.RETRAIN`; under `WARN` a changed store is answered from the model as trained
    (the returned `Freshness` says what changed) and under `REFUSE` it raises. A file that
    cannot be read at all is never overwritten here.

    Raises:
        ModelFileError: the model file cannot be served and the policy does not retrain it.
        StaleModelError: the store changed since training and the policy is `REFUSE`.
    """
    settings = settings or Settings.from_env()

    def retrain() -> Freshness:
        info = train_store(location, settings, embeddings=embeddings, config=config, seed=seed, progress=progress)
        return compare(info.trained_on, info.trained_on)

    try:
        info = read_info(model_file(location, settings.cache), settings.default_embeddings)
    except ModelFileError as exc:
        if exc.reason != "missing" and not (exc.retrainable and if_stale == StalePolicy.RETRAIN):
            raise ModelFileError(f"{exc.detail}; {retrain_hint(location)}", path=exc.path, reason=exc.reason) from None
        logger.info("training the recommender of %s: %s", location, exc.detail)
        return retrain()
    with open_store(location, read_only=True) as store:
        freshness = compare(info.trained_on, store_fingerprint(store))
    if freshness.fresh or if_stale == StalePolicy.WARN:
        return freshness
    if if_stale == StalePolicy.REFUSE:
        raise StaleModelError(f"{location}: {freshness.describe()}; {retrain_hint(location)}")
    logger.info("retraining the recommender of %s: %s", location, freshness.describe())
    return retrain()


def open_service(location: str, settings: Settings | None = None, *,
                 if_stale: StalePolicy = StalePolicy.RETRAIN, embeddings: Embeddings | None = None,
                 config: RecommenderConfig | None = None, seed: int = 0, progress: Progress | None = None,
                 watch_s: float | None = WATCH_S) -> RecommendService:
    """`ensure_model`, then a `RecommendService` over the store's model (one call for a script
    or an orchestrator that wants answers from the store as it is)."""
    settings = settings or Settings.from_env()
    ensure_model(location, settings, if_stale=if_stale, embeddings=embeddings, config=config, seed=seed,
                 progress=progress)
    return RecommendService(location, settings, embeddings=embeddings, watch_s=watch_s)
