"""The recommender as a service over one store: trained once, cached beside the store, queried.

The CLI, the HTTP API and the LangChain tool all go through `RecommendService`, so they answer
identically. The trained recommender (with its catalogue vectors) lives in a folder next to the
store; it is trained on first use, or again on request.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Self

import torch
from langchain_core.embeddings import Embeddings
from threadpoolctl import threadpool_limits

from coachgraph.calltree.stores import open_store
from coachgraph.errors import InputError
from coachgraph.recommend.candidates import Constraints
from coachgraph.recommend.context import DecisionContext, next_context, root_context
from coachgraph.recommend.recommender import Recommendation, Recommender, RecommenderConfig
from coachgraph.recommend.stats import InteractionStats
from coachgraph.recommend.team import (
    Team,
    TeamConfig,
    interaction_graph,
    positive_utility,
    select_team,
)

__all__ = ["RecommendService", "cache_dir_for", "single_threaded"]

logger = logging.getLogger(__name__)

MODEL_FILE = "recommender.pt"


def single_threaded() -> None:
    """One thread for torch and for numpy's BLAS in this process (what serving wants)."""
    torch.set_num_threads(1)
    threadpool_limits(limits=1)


def cache_dir_for(location: str) -> Path:
    """The folder beside a SQLite store (or under the user cache for a DSN) for cached models."""
    if "://" in location and not location.startswith("sqlite://"):
        digest = hashlib.sha256(location.encode("utf-8")).hexdigest()[:16]
        return Path.home() / ".cache" / "coachgraph" / f"recommender-{digest}"
    return Path(f"{location.removeprefix('sqlite://')}.recommender")


class RecommendService:
    """Answers `next` and `team` queries with one trained `Recommender`."""

    def __init__(self, recommender: Recommender, location: str, model_path: Path) -> None:
        self.recommender = recommender
        self.location = location
        self.model_path = model_path
        self.graph = interaction_graph(recommender.stats)

    @property
    def stats(self) -> InteractionStats:
        return self.recommender.stats

    @classmethod
    def open(cls, location: str, retrain: bool = False, seed: int = 0, embeddings: Embeddings | None = None,
             config: RecommenderConfig | None = None) -> Self:
        """Load the cached recommender of the store at `location`, training it when absent.

        Limits torch and BLAS to one CPU thread: per-query work is tiny, and a thread pool on
        shared cores costs more in wake-ups than it saves.
        """
        single_threaded()
        if embeddings is None:
            from coachgraph.models import load_embeddings

            embeddings = load_embeddings("minilm")
        folder = cache_dir_for(location)
        path = folder / MODEL_FILE
        if path.is_file() and not retrain:
            return cls(Recommender.load(path, embeddings), location, path)
        with open_store(location, read_only=True) as store:
            ids = store.trace_ids()
            if not ids:
                raise InputError("the store holds no traces to learn from", source=location)
            cfg = replace(config or RecommenderConfig(), seed=seed)
            rec = Recommender.fit(store, ids, embeddings, cfg, cache_dir=folder)
        rec.save(path)
        logger.info("recommender saved to %s", path)
        return cls(rec, location, path)

    def _context(self, task: str, trace_id: str | None, node_id: str | None, kind: str,
                 candidates: list[str]) -> DecisionContext:
        if trace_id is None:
            return root_context("query", task, candidates, kind, self._root())
        with open_store(self.location, read_only=True) as store:
            tree = store.get_tree(trace_id)
        if tree is None:
            raise InputError(f"no trace {trace_id!r} in the store", source="trace_id")
        try:
            ctx = next_context(tree, node_id, kind, candidates)
        except KeyError:
            raise InputError(f"no node {node_id!r} in trace {trace_id!r}", source="node_id") from None
        return replace(ctx, task=task or ctx.task)

    def next(self, task: str, trace_id: str | None = None, node_id: str | None = None, k: int = 5,
             kind: str | None = None, candidates: list[str] | None = None,
             constraints: Constraints | None = None) -> list[Recommendation]:
        """The best `k` next agents/tools: of `kind` (any kind when `None`, or when the catalogue
        has none of that kind), or among `candidates` when given."""
        pool = candidates or self._names(kind)
        return self.recommender.rank(self._context(task, trace_id, node_id, kind or "agent", pool), k, constraints)

    def _root(self) -> str:
        """The root most training traces start from: the natural parent of a fresh query."""
        common = self.stats.roots.most_common(1)
        return common[0][0] if common else ""

    def _names(self, kind: str | None) -> list[str]:
        names = self.recommender.catalog.names(kind)
        return names or self.recommender.catalog.names()

    def team(self, task: str, max_size: int = 4, candidates: list[str] | None = None,
             costs: Mapping[str, float] | None = None, budget: float | None = None) -> Team:
        """A connected team of at most `max_size` for `task`."""
        ctx = root_context("query", task, candidates or self.recommender.catalog.names(), root=self._root())
        ranked = self.recommender.rank(ctx, k=self.recommender.config.n_candidates)
        if not ranked:
            return Team(nodes=[], edges=[], score=0.0, connected=False)
        utility = positive_utility({r.name: r.score for r in ranked})
        cfg = TeamConfig(max_size=max_size, costs=dict(costs or {}), budget=budget)
        return select_team(utility, self.graph, cfg)
