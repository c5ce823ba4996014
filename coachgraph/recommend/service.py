"""The recommender as a service over one store: loads the store's trained model and answers.

The CLI, the HTTP API and the LangChain tool all go through `RecommendService`, so they answer
identically. The service never trains: `trainer.train_store` (``coachgraph recommend train``)
writes the model file beside the store and the service loads it. `reload` swaps in a retrained
model without a restart; queries already running finish on the model they started with.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from langchain_core.embeddings import Embeddings

from coachgraph.calltree.stores import open_store
from coachgraph.config import Settings
from coachgraph.errors import InputError
from coachgraph.recommend.candidates import Constraints
from coachgraph.recommend.checkpoint import ModelInfo, load_recommender, model_file
from coachgraph.recommend.context import DecisionContext, next_context, root_context
from coachgraph.recommend.recommender import Recommendation, Recommender
from coachgraph.recommend.stats import InteractionStats
from coachgraph.recommend.team import Team, TeamConfig
from coachgraph.recommend.teamrec import TeamQuery, recommend_team

__all__ = ["RecommendService"]

logger = logging.getLogger(__name__)

Stamp = tuple[int, int, int] | None
"""What identifies one written model file: modification time, size and inode of its description."""


def _stamp(path: Path) -> Stamp:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


@dataclass(frozen=True)
class _Loaded:
    """One loaded model and what is derived from it; replaced whole on reload."""

    recommender: Recommender
    info: ModelInfo
    stamp: Stamp


class RecommendService:
    """Answers `next` and `team` queries with the trained model of one store.

    Args:
        location: the store (SQLite file or ``postgresql://`` DSN).
        settings: where models are kept (`Settings.cache`, for a DSN) and which embeddings
            (`Settings.default_embeddings`); from the environment when not given.
        embeddings: replaces the embedder `settings` names (it must produce the same vectors).

    Raises:
        ModelFileError: the store has no model this release can serve (its message says why).
    """

    def __init__(self, location: str, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.location = location
        self.settings = settings or Settings.from_env()
        self.model_path = model_file(location, self.settings.cache)
        if embeddings is None:
            from coachgraph.models import load_embeddings

            embeddings = load_embeddings(self.settings.default_embeddings)
        self.embeddings = embeddings
        self._lock = threading.Lock()
        self._loaded = self._load()

    def _load(self) -> _Loaded:
        stamp = _stamp(self.model_path)  # before reading: a file replaced meanwhile is loaded again later
        rec, info = load_recommender(self.model_path, self.embeddings, self.settings.default_embeddings)
        return _Loaded(rec, info, stamp)

    @property
    def recommender(self) -> Recommender:
        return self._loaded.recommender

    @property
    def stats(self) -> InteractionStats:
        return self.recommender.stats

    @property
    def info(self) -> ModelInfo:
        """What the loaded model says about itself (when and on how many traces it was trained)."""
        return self._loaded.info

    def reload(self, force: bool = False) -> bool:
        """Load the model file again if it changed since it was loaded (always when `force`).

        The new model replaces the old one in one step; a file that cannot be served raises
        `ModelFileError` and the loaded model stays. Returns whether a model was loaded.
        """
        with self._lock:
            if not force and _stamp(self.model_path) == self._loaded.stamp:
                return False
            self._loaded = self._load()
        logger.info("recommender reloaded from %s", self.model_path)
        return True

    def _context(self, rec: Recommender, task: str, trace_id: str | None, node_id: str | None, kind: str,
                 candidates: list[str]) -> DecisionContext:
        if trace_id is None:
            return root_context("query", task, candidates, kind, _root(rec))
        with open_store(self.location) as store:
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
        rec = self._loaded.recommender
        pool = candidates or _names(rec, kind)
        return rec.rank(self._context(rec, task, trace_id, node_id, kind or "agent", pool), k, constraints)

    def team(self, task: str, max_size: int = 4, candidates: list[str] | None = None,
             costs: Mapping[str, float] | None = None, budget: float | None = None) -> Team:
        """The team for `task` of at most `max_size` (its size learned below that) and who calls whom in it.

        Raises:
            InputError: the model holds no team recommender (its traces held too few teams).
        """
        rec = self._loaded.recommender
        if rec.team is None:
            raise InputError("the store's model learned no team recommender: its traces hold too few teams",
                             source=self.location)
        query = TeamQuery("query", task, _root(rec), tuple(candidates or ()))
        return recommend_team(rec, rec.team, query, TeamConfig(max_size=max_size, costs=dict(costs or {}), budget=budget))


def _root(rec: Recommender) -> str:
    """The root most training traces start from: the natural parent of a fresh query."""
    common = rec.stats.roots.most_common(1)
    return common[0][0] if common else ""


def _names(rec: Recommender, kind: str | None) -> list[str]:
    names = rec.catalog.names(kind)
    return names or rec.catalog.names()
