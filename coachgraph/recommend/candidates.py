"""Candidate retrieval: constraints first, then dense and BM25 scores fused into a top-N list.

The constraints (an allowed set, compatibility with the calling parent as seen in training trees,
a cost budget; at a handoff, any agent but the one handing off and those enclosing it) are
applied before anything is scored, so an infeasible item never reaches the scorer. Dense and
lexical rankings are fused by reciprocal rank, the usual hybrid-retrieval choice when the two
scores live on different scales.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from coachgraph.recommend.catalog import Catalog
from coachgraph.recommend.context import HANDOFF, DecisionContext
from coachgraph.recommend.stats import InteractionStats
from coachgraph.retrieval.fusion import rank_positions, reciprocal_rank_fusion
from coachgraph.retrieval.memory import top_k

__all__ = ["Candidates", "Constraints", "retrieve"]

RRF_C = 59.0
"""Reciprocal-rank-fusion constant shared by both channels (ranks count from 1, so the best
candidate of a channel adds 1/60)."""


@dataclass(frozen=True, slots=True)
class Constraints:
    """What makes a candidate feasible."""

    allowed: frozenset[str] | None = None
    """Only these names (besides the context's own candidate list); `None`: no restriction."""
    parent_compatible: bool = False
    """Keep only items the parent called in training (when the parent was seen at all)."""
    costs: Mapping[str, float] = field(default_factory=dict)
    """Cost of each item (e.g. expected tokens or seconds); unknown items cost 0."""
    max_cost: float | None = None
    """Drop items costing more than this."""


@dataclass(frozen=True, slots=True)
class Candidates:
    """The feasible top-N for one decision, with retrieval scores."""

    names: list[str]
    rows: np.ndarray
    """Catalogue row of each name (-1 when the catalogue lacks it), ``(n,)``."""
    dense: np.ndarray
    """Mean cosine similarity to the task and the local subtask, ``(n,)``."""
    lexical: np.ndarray
    """Summed BM25 score for the task and the local subtask, ``(n,)``."""
    fused: np.ndarray
    """Reciprocal-rank fusion of the two, ``(n,)``; the retrieval order."""
    missing: np.ndarray = field(init=False)
    """Positions of the names the catalogue lacks (features look those up by name)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "missing", np.flatnonzero(self.rows < 0))


def _feasible(context: DecisionContext, catalog: Catalog, stats: InteractionStats,
              constraints: Constraints) -> list[str]:
    names = list(context.candidates) or catalog.names(context.kind)
    if context.parent.startswith(HANDOFF):  # never to the agent handing off, nor to a graph holding it
        enclosing = {context.parent.removeprefix(HANDOFF), *context.ancestors}
        names = [n for n in names if n not in enclosing]
    if constraints.allowed is not None:
        names = [n for n in names if n in constraints.allowed]
    if constraints.parent_compatible and stats.parent_calls.get(context.parent, 0) > 0:
        called = stats.children_of.get(context.parent, {})
        names = [n for n in names if n in called]
    if constraints.max_cost is not None:
        names = [n for n in names if constraints.costs.get(n, 0.0) <= constraints.max_cost]
    return names


def retrieve(context: DecisionContext, catalog: Catalog, stats: InteractionStats, n: int,
             constraints: Constraints | None = None, query: np.ndarray | None = None) -> Candidates:
    """The feasible candidates of `context`, best `n` by fused dense and BM25 rank.

    `query` holds the task and local-subtask vectors, ``(2, dim)`` (or ``(1, dim)`` when they are
    one text); embedded when not given.
    """
    names = _feasible(context, catalog, stats, constraints or Constraints())
    rows = catalog.positions(names)
    subtask = context.local_text or context.task
    if query is None:  # a root query's subtask is its task: one text to embed and match, not two
        query = catalog.embed_queries([context.task] if subtask == context.task else [context.task, subtask])
    dense = catalog.dense(query, rows).mean(1)  # (n_feasible,) mean of task and subtask similarity
    lexical = catalog.lexical(context.task, rows)
    lexical = lexical + (lexical if context.local_text == context.task else catalog.lexical(context.local_text, rows))
    fused = reciprocal_rank_fusion([rank_positions(dense), rank_positions(lexical)], RRF_C)
    keep = top_k(fused, n) if len(names) > n else np.argsort(-fused, kind="stable")
    return Candidates([names[i] for i in keep], rows[keep], dense[keep], lexical[keep], fused[keep])
