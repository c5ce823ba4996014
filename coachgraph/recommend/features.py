"""Per-candidate features in named groups: relevance, reliability, interaction, structure, content.

Each group is a registered function of the decision context, the retrieved candidates, the
catalogue and the training statistics. None receives a label: the context holds only the trace's
past, and the statistics come from training trees. Groups are named so that a score can be
explained as the contribution of each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from coachgraph.recommend.candidates import Candidates
from coachgraph.recommend.catalog import Catalog
from coachgraph.recommend.context import DecisionContext
from coachgraph.recommend.stats import InteractionStats

__all__ = ["FEATURE_GROUPS", "FeatureEnv", "FeatureGroup", "feature_names", "featurize", "group_slices"]

GroupFn = Callable[["FeatureEnv", DecisionContext, Candidates], np.ndarray]


@dataclass(frozen=True, slots=True)
class FeatureGroup:
    """A named block of feature columns and the function that fills them, ``(n_cand, len(names))``."""

    names: tuple[str, ...]
    fn: GroupFn


@dataclass(slots=True)
class FeatureEnv:
    """What features read: the catalogue, the training statistics and cached centroids."""

    catalog: Catalog
    stats: InteractionStats
    centroids: dict[str, np.ndarray] = field(default_factory=dict)

    def centroid(self, parent: str) -> np.ndarray:
        """Mean vector of the items `parent` called in training (zeros when it called none)."""
        if parent not in self.centroids:
            called = self.stats.children_of.get(parent, {})
            rows = self.catalog.positions(list(called))
            weights = np.array(list(called.values()), np.float32)[rows >= 0]
            vectors = self.catalog.vectors[rows[rows >= 0]]
            mean = (weights[:, None] * vectors).sum(0) / max(weights.sum(), 1.0) if len(vectors) else np.zeros(self.catalog.vectors.shape[1], np.float32)
            self.centroids[parent] = mean.astype(np.float32)
        return self.centroids[parent]


def _counts(counter: dict[str, int] | dict[tuple[str, str], int], keys: list) -> np.ndarray:
    return np.array([counter.get(k, 0) for k in keys], np.float32)


def _relevance(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    task_words = set(env.catalog.tokens(ctx.task))
    words = [env.catalog.words(n) for n in cands.names]
    overlap = [len(w & task_words) / max(len(w), 1) for w in words]
    lex = cands.lexical / max(float(cands.lexical.max(initial=0.0)), 1e-6)
    return np.stack([cands.dense, lex, np.log1p(cands.lexical), 60.0 * cands.fused, np.array(overlap, np.float32)], 1)


def _reliability(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    s, names = env.stats, cands.names
    trials, wins = _counts(s.labelled, names), _counts(s.success, names)
    seen = _counts(s.traces, names)
    blame = (_counts(s.blamed, names) + 0.5) / (seen + 2.0)
    errors = (_counts(s.errors, names) + 0.5) / (_counts(s.calls, names) + 2.0)
    return np.stack([np.log1p(_counts(s.calls, names)), (wins + 1.0) / (trials + 2.0),
                     trials / (seen + 1.0), blame, errors], 1)


def _pmi_stats(s: InteractionStats, others: tuple[str, ...], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    if not others:
        return np.zeros(len(names), np.float32), np.zeros(len(names), np.float32)
    table = np.array([[s.pmi(n, o) for o in set(others)] for n in names], np.float32)  # (n, k)
    return table.max(1), table.mean(1)


def _interaction(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    s, names = env.stats, cands.names
    parent_n = s.parent_calls.get(ctx.parent, 0)
    to_parent = _counts(s.transitions, [(ctx.parent, n) for n in names])
    prev = ctx.siblings[-1] if ctx.siblings else ""
    after_prev = _counts(s.follows, [(prev, n) for n in names])
    anc_max, anc_mean = _pmi_stats(s, tuple(a for a in ctx.ancestors if a in s.traces), names)
    sib_max, sib_mean = _pmi_stats(s, tuple(a for a in ctx.path if a in s.traces), names)
    repeats = np.array([ctx.path.count(n) for n in names], np.float32)
    return np.stack([
        np.log((to_parent + 0.1) / (parent_n + 0.1 * max(len(names), 1))), (to_parent > 0).astype(np.float32),
        np.log((after_prev + 0.1) / (s.prev_calls.get(prev, 0) + 0.1 * max(len(names), 1))),
        anc_max, anc_mean, sib_max, sib_mean, np.log1p(repeats),
        np.array([float(bool(ctx.siblings) and n == prev) for n in names], np.float32),
    ], 1)


def _structure(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    s, names = env.stats, cands.names
    calls = np.maximum(_counts(s.calls, names), 1.0)
    mean_depth = _counts(s.depth_sum, names) / calls
    mean_pos = _counts(s.position_sum, names) / calls
    seen = _counts(s.calls, names) > 0
    ones = np.ones(len(names), np.float32)
    return np.stack([
        ones * math.log1p(ctx.depth), ones * math.log1p(len(ctx.siblings)),
        np.where(seen, np.abs(mean_depth - ctx.depth), 0.0), np.where(seen, np.log1p(np.abs(mean_pos - len(ctx.siblings))), 0.0),
        np.log1p(_counts(s.children_sum, names) / calls), _counts(s.leaves, names) / calls,
    ], 1)


def _content(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    vectors = env.catalog.vectors[np.maximum(cands.rows, 0)]  # (n, dim)
    known = (cands.rows >= 0).astype(np.float32)
    to_centroid = vectors @ env.centroid(ctx.parent) * known
    prev = env.catalog.positions(ctx.siblings[-1:])
    to_prev = vectors @ env.catalog.vectors[prev[0]] * known if len(prev) and prev[0] >= 0 else np.zeros(len(cands.names), np.float32)
    unseen = (_counts(env.stats.calls, cands.names) == 0).astype(np.float32)
    return np.stack([to_centroid, to_prev, unseen, unseen * cands.dense], 1)


FEATURE_GROUPS: dict[str, FeatureGroup] = {
    "relevance": FeatureGroup(("dense", "bm25_norm", "bm25_log", "fused_rrf", "name_overlap"), _relevance),
    "reliability": FeatureGroup(("log_calls", "success_rate", "labelled_share", "blame_rate", "error_rate"), _reliability),
    "interaction": FeatureGroup(("logp_parent", "seen_parent", "logp_after_prev", "pmi_ancestor_max",
                                 "pmi_ancestor_mean", "pmi_path_max", "pmi_path_mean", "repeats", "is_prev"), _interaction),
    "structure": FeatureGroup(("depth", "position", "depth_gap", "position_gap", "branching", "leaf_share"), _structure),
    "content": FeatureGroup(("centroid_sim", "prev_sim", "unseen", "unseen_dense"), _content),
}
"""Feature groups by name, in column order."""


def feature_names() -> list[str]:
    """Every column name, ``group.feature``, in column order."""
    return [f"{g}.{n}" for g, group in FEATURE_GROUPS.items() for n in group.names]


def group_slices() -> dict[str, slice]:
    """Column range of each group."""
    slices, start = {}, 0
    for name, group in FEATURE_GROUPS.items():
        slices[name] = slice(start, start + len(group.names))
        start += len(group.names)
    return slices


def featurize(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    """The feature matrix of one decision's candidates, ``(n_cand, n_features)`` float32."""
    if not cands.names:
        return np.zeros((0, len(feature_names())), np.float32)
    blocks = [group.fn(env, ctx, cands) for group in FEATURE_GROUPS.values()]
    return np.concatenate(blocks, 1).astype(np.float32)
