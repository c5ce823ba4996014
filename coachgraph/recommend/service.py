"""The recommender as a service over one store: loads the store's trained model and answers.

The CLI, the HTTP API and the LangChain tool all go through `RecommendService`, so they answer
identically. The service never trains: `trainer.train_store` (``coachgraph recommend train``)
writes the model file beside the store and the service loads it. `reload` swaps in a retrained
model without a restart, and by default the service also looks for a newer file every
`WATCH_S` seconds while it answers, so that every server process picks up a retrained model.
Queries already running finish on the model they started with.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from langchain_core.embeddings import Embeddings

from coachgraph.calltree.stores import open_store
from coachgraph.config import Settings
from coachgraph.errors import CoachgraphError, InputError
from coachgraph.recommend.candidates import Constraints
from coachgraph.recommend.checkpoint import ModelInfo, load_recommender, model_file
from coachgraph.recommend.context import DecisionContext, next_context, root_context
from coachgraph.recommend.fingerprint import Freshness, compare, store_fingerprint
from coachgraph.recommend.recommender import Recommendation, Recommender
from coachgraph.recommend.stats import InteractionStats
from coachgraph.recommend.team import Team, TeamConfig
from coachgraph.recommend.teamrec import TeamQuery, recommend_team

__all__ = ["WATCH_S", "RecommendService"]

logger = logging.getLogger(__name__)

WATCH_S = 2.0
"""Seconds between two looks for a newer model file (one `stat` call) while answering."""

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
        watch_s: seconds between looks for a newer model file while answering; `None`: only
            an explicit `reload` loads one.

    Raises:
        ModelFileError: the store has no model this release can serve (its message says why).
    """

    def __init__(self, location: str, settings: Settings | None = None, embeddings: Embeddings | None = None,
                 watch_s: float | None = WATCH_S) -> None:
        self.location = location
        self.settings = settings or Settings.from_env()
        self.model_path = model_file(location, self.settings.cache)
        if embeddings is None:
            from coachgraph.models import load_embeddings

            embeddings = load_embeddings(self.settings.default_embeddings)
        self.embeddings = embeddings
        self.watch_s = watch_s
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._rejected: Stamp = None
        self._loaded = self._load()

    def _load(self) -> _Loaded:
        stamp = _stamp(self.model_path)  # before reading: a file replaced meanwhile is loaded again later
        rec, info = load_recommender(self.model_path, self.embeddings, self.settings.default_embeddings)
        return _Loaded(rec, info, stamp)

    @property
    def recommender(self) -> Recommender:
        return self._current().recommender

    @property
    def stats(self) -> InteractionStats:
        return self.recommender.stats

    @property
    def info(self) -> ModelInfo:
        """What the loaded model says about itself (when trained, on which store content)."""
        return self._loaded.info

    def reload(self, force: bool = False) -> bool:
        """Load the model file again if it changed since it was loaded (always when `force`).

        The new model replaces the old one in one step; a file that cannot be served raises
        `ModelFileError` and the loaded model stays. Returns whether a model was loaded.
        """
        with self._lock:
            self._checked = time.monotonic()
            stamp = _stamp(self.model_path)
            if not force and stamp == self._loaded.stamp:
                return False
            try:
                self._loaded = self._load()
            except CoachgraphError:
                self._rejected = stamp
                raise
        logger.info("recommender reloaded from %s", self.model_path)
        return True

    def _current(self) -> _Loaded:
        """The loaded model, after a look for a newer file when `watch_s` has passed."""
        if self.watch_s is not None and time.monotonic() - self._checked >= self.watch_s:
            self._checked = time.monotonic()
            stamp = _stamp(self.model_path)
            if stamp not in (self._loaded.stamp, self._rejected):
                try:
                    self.reload()
                except CoachgraphError as exc:
                    logger.warning("kept the loaded recommender; the new file cannot be served: %s", exc)
        return self._loaded

    def freshness(self) -> Freshness:
        """How the store differs now from the content the loaded model was trained on."""
        with open_store(self.location, read_only=True) as store:
            current = store_fingerprint(store)
        return compare(self.info.trained_on, current)

    def _context(self, rec: Recommender, task: str, trace_id: str | None, node_id: str | None, kind: str,
                 candidates: list[str]) -> DecisionContext:
        if trace_id is None:
            return root_context("query", task, candidates, kind, _root(rec))
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
        rec = self._current().recommender
        pool = candidates or _names(rec, kind)
        return rec.rank(self._context(rec, task, trace_id, node_id, kind or "agent", pool), k, constraints)

    def team(self, task: str, max_size: int = 4, candidates: list[str] | None = None,
             costs: Mapping[str, float] | None = None, budget: float | None = None) -> Team:
        """The team for `task` of at most `max_size` (its size learned below that) and who calls whom in it.

        Raises:
            InputError: the model holds no team recommender (its traces held too few teams).
        """
        rec = self._current().recommender
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
