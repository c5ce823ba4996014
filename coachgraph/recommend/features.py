"""Per-candidate features in named groups: relevance, reliability, interaction, structure, content,
wording.

Each group is a registered function of the decision context, the retrieved candidates, the
catalogue and the training statistics. None receives a label: the context holds only the trace's
past, and the statistics come from training trees. Groups are named so that a score can be
explained as the contribution of each.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from coachgraph.recommend.candidates import Candidates
from coachgraph.recommend.catalog import Catalog
from coachgraph.recommend.context import DecisionContext
from coachgraph.recommend.stats import InteractionStats, task_words

__all__ = ["FEATURE_GROUPS", "FeatureEnv", "FeatureGroup", "feature_names", "featurize", "group_slices"]

GroupFn = Callable[["FeatureEnv", DecisionContext, Candidates], np.ndarray]


@dataclass(frozen=True, slots=True)
class FeatureGroup:
    """A named block of feature columns and the function that fills them, ``(n_cand, len(names))``."""

    names: tuple[str, ...]
    fn: GroupFn


TABLES_CACHE = 512
"""Per-key count tables kept by a `FeatureEnv` (one per parent, previous call or label seen)."""


@dataclass(slots=True)
class FeatureEnv:
    """What features read: the catalogue, the training statistics and cached lookup tables.

    Counts are served from arrays aligned with the catalogue rows, so that a feature of every
    candidate is one gather instead of a dictionary lookup per candidate.
    """

    catalog: Catalog
    stats: InteractionStats
    centroids: dict[str, np.ndarray] = field(default_factory=dict)
    tables: OrderedDict[tuple[str, str | None], np.ndarray] = field(default_factory=OrderedDict)
    grouped: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)

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

    def counts(self, counter: str, cands: Candidates, key: str | None = None) -> np.ndarray:
        """``stats.<counter>[name]`` of each candidate, or ``[(key, name)]`` for a pair counter, ``(n,)``."""
        out = self._table(counter, key)[cands.rows]  # a row of -1 reads the trailing zero
        for i in cands.missing:  # names the catalogue lacks
            out[i] = self._source(counter, key).get(cands.names[i], 0)
        return out

    def _source(self, counter: str, key: str | None) -> Mapping[str, int]:
        if key is None:
            return getattr(self.stats, counter)
        if counter not in self.grouped:
            self.grouped[counter] = _group(getattr(self.stats, counter), symmetric=counter == "cooccur")
        return self.grouped[counter].get(key, {})

    def _table(self, counter: str, key: str | None) -> np.ndarray:
        table = self.tables.get((counter, key))
        if table is None:
            table = np.zeros(len(self.catalog) + 1, np.float32)
            for name, count in self._source(counter, key).items():
                row = self.catalog.index.get(name)
                if row is not None:
                    table[row] = count
            if len(self.tables) >= TABLES_CACHE:
                self.tables.popitem(last=False)
            self.tables[(counter, key)] = table
        return table


def _group(pairs: Mapping[tuple[str, str], int], symmetric: bool) -> dict[str, Counter[str]]:
    """Pair counts grouped by first label (by both labels when the pair is unordered)."""
    out: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for (a, b), count in pairs.items():
        out[a][b] += count
        if symmetric:
            out[b][a] += count
    return dict(out)


def _matches(env: FeatureEnv, cands: Candidates, label: str) -> np.ndarray:
    """Which candidates are named `label`, ``(n,)`` bool."""
    row = env.catalog.index.get(label)
    hit = cands.rows == row if row is not None else np.zeros(len(cands.names), bool)
    for i in cands.missing:
        hit[i] = cands.names[i] == label
    return hit


def _relevance(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    task_words = set(env.catalog.tokens(ctx.task))
    words = [env.catalog.words(n) for n in cands.names]
    overlap = [len(w & task_words) / max(len(w), 1) for w in words]
    lex = cands.lexical / max(float(cands.lexical.max(initial=0.0)), 1e-6)
    return np.stack([cands.dense, lex, np.log1p(cands.lexical), 60.0 * cands.fused, np.array(overlap, np.float32)], 1)


def _reliability(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    trials, wins = env.counts("labelled", cands), env.counts("success", cands)
    seen, calls = env.counts("traces", cands), env.counts("calls", cands)
    blame = (env.counts("blamed", cands) + 0.5) / (seen + 2.0)
    errors = (env.counts("errors", cands) + 0.5) / (calls + 2.0)
    return np.stack([np.log1p(calls), (wins + 1.0) / (trials + 2.0), trials / (seen + 1.0), blame, errors], 1)


def _pmi_stats(env: FeatureEnv, others: tuple[str, ...], cands: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """Max and mean over `others` of `InteractionStats.pmi` with each candidate."""
    if not others:
        return np.zeros(len(cands.names), np.float32), np.zeros(len(cands.names), np.float32)
    s, labels = env.stats, sorted(set(others))
    pairs = np.stack([env.counts("cooccur", cands, o) for o in labels], 1)  # (n, k)
    mine = env.counts("traces", cands)[:, None] + 1.0  # (n, 1)
    theirs = np.array([s.traces.get(o, 0) + 1.0 for o in labels], np.float32)[None, :]  # (1, k)
    table = np.log((pairs + 0.1) * (s.n_traces + 1.0) / (mine * theirs))  # (n, k)
    return table.max(1), table.mean(1)


def _interaction(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    s, n = env.stats, max(len(cands.names), 1)
    to_parent = env.counts("transitions", cands, ctx.parent)
    prev = ctx.siblings[-1] if ctx.siblings else ""
    after_prev = env.counts("follows", cands, prev)
    anc_max, anc_mean = _pmi_stats(env, tuple(a for a in ctx.ancestors if a in s.traces), cands)
    sib_max, sib_mean = _pmi_stats(env, tuple(a for a in ctx.path if a in s.traces), cands)
    repeats = np.zeros(len(cands.names), np.float32)
    for label, count in Counter(ctx.path).items():
        repeats[_matches(env, cands, label)] = count
    is_prev = _matches(env, cands, prev) if ctx.siblings else np.zeros(len(cands.names), bool)
    return np.stack([
        np.log((to_parent + 0.1) / (s.parent_calls.get(ctx.parent, 0) + 0.1 * n)), (to_parent > 0).astype(np.float32),
        np.log((after_prev + 0.1) / (s.prev_calls.get(prev, 0) + 0.1 * n)),
        anc_max, anc_mean, sib_max, sib_mean, np.log1p(repeats), is_prev.astype(np.float32),
    ], 1)


def _recency(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    """How recently and how often each candidate was called in this trace, and under this parent.

    Orchestrators tend to hand back to the agent they used last and to alternate between a few
    speakers; the counts of `_interaction` see neither the order of the path nor a handoff's
    earlier targets (a handoff starts a new parent, so it has no previous sibling).
    """
    n, length = len(cands.names), max(len(ctx.path), 1)
    last, share = np.zeros(n, np.float32), np.zeros(n, np.float32)
    for i, label in enumerate(ctx.path):
        hit = _matches(env, cands, label)
        last[hit] = 1.0 / (len(ctx.path) - i)  # overwritten by later calls: the latest one wins
        share[hit] += 1.0 / length
    prev2 = _matches(env, cands, ctx.siblings[-2]) if len(ctx.siblings) >= 2 else np.zeros(n, bool)
    under = Counter(ctx.siblings)
    sib_share = np.array([under.get(name, 0) / max(len(ctx.siblings), 1) for name in cands.names], np.float32)
    return np.stack([last, share, prev2.astype(np.float32), sib_share], 1)


def _structure(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    raw = env.counts("calls", cands)
    calls = np.maximum(raw, 1.0)
    mean_depth = env.counts("depth_sum", cands) / calls
    mean_pos = env.counts("position_sum", cands) / calls
    seen = raw > 0
    ones = np.ones(len(cands.names), np.float32)
    return np.stack([
        ones * math.log1p(ctx.depth), ones * math.log1p(len(ctx.siblings)),
        np.where(seen, np.abs(mean_depth - ctx.depth), 0.0), np.where(seen, np.log1p(np.abs(mean_pos - len(ctx.siblings))), 0.0),
        np.log1p(env.counts("children_sum", cands) / calls), env.counts("leaves", cands) / calls,
    ], 1)


def _content(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    vectors = env.catalog.vectors[np.maximum(cands.rows, 0)]  # (n, dim)
    known = (cands.rows >= 0).astype(np.float32)
    to_centroid = vectors @ env.centroid(ctx.parent) * known
    prev = env.catalog.positions(ctx.siblings[-1:])
    to_prev = vectors @ env.catalog.vectors[prev[0]] * known if len(prev) and prev[0] >= 0 else np.zeros(len(cands.names), np.float32)
    unseen = (env.counts("calls", cands) == 0).astype(np.float32)
    return np.stack([to_centroid, to_prev, unseen, unseen * cands.dense], 1)


def _wording(env: FeatureEnv, ctx: DecisionContext, cands: Candidates) -> np.ndarray:
    """How strongly the task's words went with each candidate in training traces.

    Traces without a pool describe agents by their name alone, and what a task's wording asks
    for (a topic, a phrase such as "with a route map") is learned only from which agents earlier
    tasks with those words called.
    """
    s, n = env.stats, len(cands.names)
    words = [w for w in task_words(ctx.task) if w in s.words]
    if not words:
        return np.zeros((n, 3), np.float32)
    pairs = np.stack([env.counts("word_calls", cands, w) for w in words], 1)  # (n, k)
    seen = np.array([s.words[w] for w in words], np.float32)[None, :]  # (1, k)
    mine = env.counts("traces", cands)[:, None] + 1.0  # (n, 1)
    pmi = np.log((pairs + 0.1) * (s.n_traces + 1.0) / (mine * (seen + 1.0)))  # (n, k)
    return np.stack([pmi.max(1), pmi.mean(1), (pairs / seen).max(1)], 1)


FEATURE_GROUPS: dict[str, FeatureGroup] = {
    "relevance": FeatureGroup(("dense", "bm25_norm", "bm25_log", "fused_rrf", "name_overlap"), _relevance),
    "reliability": FeatureGroup(("log_calls", "success_rate", "labelled_share", "blame_rate", "error_rate"), _reliability),
    "interaction": FeatureGroup(("logp_parent", "seen_parent", "logp_after_prev", "pmi_ancestor_max",
                                 "pmi_ancestor_mean", "pmi_path_max", "pmi_path_mean", "repeats", "is_prev"), _interaction),
    "recency": FeatureGroup(("last_seen", "path_share", "is_prev2", "sibling_share"), _recency),
    "structure": FeatureGroup(("depth", "position", "depth_gap", "position_gap", "branching", "leaf_share"), _structure),
    "content": FeatureGroup(("centroid_sim", "prev_sim", "unseen", "unseen_dense"), _content),
    "wording": FeatureGroup(("word_pmi_max", "word_pmi_mean", "word_share_max"), _wording),
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
