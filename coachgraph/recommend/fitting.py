"""Fitting a recommender: statistics, vocabulary and scorer weights, learned from a store's traces.

`fit_recommender` is the whole of it; the pieces are public because the offline evaluation and
the benchmarks fit the same way on other splits. Nothing here serves a query: a fitted
`Recommender` is saved by `checkpoint.save_recommender` and served by `service.RecommendService`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from langchain_core.embeddings import Embeddings

from coachgraph.calltree.base import CallTreeStore
from coachgraph.recommend.catalog import catalog_from_store
from coachgraph.recommend.context import Example, contexts_from_tree
from coachgraph.recommend.ensemble import Ensemble
from coachgraph.recommend.features import FeatureEnv, group_slices
from coachgraph.recommend.progress import CHOOSE, EMBED_QUERIES, FEATURES, TRAIN, Progress, report
from coachgraph.recommend.recommender import Recommender, RecommenderConfig, query_texts
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import InteractionStats, build_stats
from coachgraph.recommend.teamfit import fit_team_model, learns_teams
from coachgraph.recommend.train import Encoded, batch_tensors, concat, trace_bucket, train

__all__ = ["choose_arch", "encode_training", "examples_from_store", "fit_chosen", "fit_recommender", "fit_scorer",
           "item_vocab", "train_scorer"]

logger = logging.getLogger(__name__)

STANDARDIZE_ROWS = 20_000
"""Most decisions read for the feature standardisation statistics."""
MIN_STD = 1e-3
"""Columns whose training spread is below this are not rescaled (a tiny spread would blow up
any value the training set never showed)."""


def examples_from_store(store: CallTreeStore, trace_ids: Iterable[str]) -> list[Example]:
    """Every decision of the named traces, with its past-only context."""
    out: list[Example] = []
    for tree in store.iter_trees(trace_ids):
        out.extend(contexts_from_tree(tree, store.decision_points(tree.trace_id)))
    return out


def item_vocab(stats: InteractionStats) -> dict[str, int]:
    """Item id of every label the statistics saw called or calling (0 is padding and unknown)."""
    labels = sorted(set(stats.calls) | set(stats.parent_calls))
    return {label: i + 1 for i, label in enumerate(labels)}


def _standardization(data: Encoded) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each feature column over real candidates.

    Read from at most `STANDARDIZE_ROWS` evenly spaced decisions: the moments settle long
    before that, and a copy of every candidate row of a large corpus costs seconds.
    """
    rows = np.unique(np.linspace(0, len(data) - 1, min(len(data), STANDARDIZE_ROWS)).astype(np.int64))
    flat = data.feats[rows][data.mask[rows]] if len(data) and data.mask.any() else np.zeros((1, data.feats.shape[-1]), np.float32)
    std = flat.std(0)
    return flat.mean(0), np.where(std < MIN_STD, 1.0, std)  # a column constant in training stays on its raw scale


class _EpochTally:
    """`train` callbacks reporting the epochs of scorers trained one after another as one stage
    (a scorer stopped early counts as all its epochs done)."""

    def __init__(self, progress: Progress, members: int) -> None:
        self.progress, self.members = progress, members
        self.member = self.done = self.total = 0

    def start(self, n_epochs: int, _: float) -> None:
        self.done, self.total = self.member * n_epochs, self.members * n_epochs
        self.member += 1
        report(self.progress, TRAIN, self.done, self.total)

    def epoch_end(self, _: int, __: float) -> None:
        self.done += 1
        report(self.progress, TRAIN, self.done, self.total)

    def finish(self) -> None:
        report(self.progress, TRAIN, self.total, self.total)

    def callbacks(self) -> dict[str, Callable[[int, float], None]]:
        return {"train_start": self.start, "epoch_end": self.epoch_end}


def fit_scorer(data: Encoded, columns: np.ndarray, config: RecommenderConfig, n_items: int,
               progress: Progress | None = None) -> tuple[Scorer | Ensemble, list[float]]:
    """Scorers of architecture `config.arch` trained on the columns `columns` of `data`, one per
    seed of `config.seeds`; the losses per epoch are the first scorer's."""
    every = len(columns) == data.feats.shape[-1] and bool((columns == np.arange(len(columns))).all())
    view = data if every else data.with_feats(data.feats[..., columns])
    mean, std = _standardization(view)
    groups = tuple((g, int(np.searchsorted(columns, s.start)), int(np.searchsorted(columns, s.stop)))
                   for g, s in group_slices().items())
    cfg = ScorerConfig(n_features=len(columns), arch=config.arch, n_items=n_items,
                       groups=tuple(g for g in groups if g[2] > g[1]), seed=config.seed,
                       mean=tuple(mean.tolist()), std=tuple(std.tolist()))
    members, losses = [], []
    tally = _EpochTally(progress, max(config.seeds, 1)) if progress is not None else None
    for k in range(max(config.seeds, 1)):
        model = Scorer(replace(cfg, seed=config.seed + k))
        losses.append(train(model, view, replace(config.train, seed=config.train.seed + k),
                            tally.callbacks() if tally else None))
        members.append(model)
    if tally is not None:
        tally.finish()
    return (members[0] if len(members) == 1 else Ensemble(members)), losses[0]


def _reciprocal_ranks(model: Scorer | Ensemble, data: Encoded) -> np.ndarray:
    """Reciprocal rank of each decision's chosen candidate (ties count half; 0 where not retrieved)."""
    with torch.no_grad():
        s = model(batch_tensors(data, slice(None)))[0].numpy()  # (N, C)
    rows = np.flatnonzero(data.targets >= 0)
    chosen = s[rows, data.targets[rows]][:, None]
    out = np.zeros(len(data))
    out[rows] = 1.0 / (1.0 + (s[rows] > chosen).sum(1) + 0.5 * ((s[rows] == chosen).sum(1) - 1))
    return out


def _small(data: Encoded, config: RecommenderConfig) -> bool:
    """Whether `data` has few enough candidate rows to select an architecture and average seeds."""
    return int(data.mask.sum()) <= config.select_below


def choose_arch(data: Encoded, columns: np.ndarray, config: RecommenderConfig, n_items: int,
                progress: Progress | None = None) -> str:
    """The architecture of `config.arch_choices` whose scorer ranks held-out training traces best.

    Item embeddings and a path encoder (`seq`) help where items recur across traces and overfit
    where they are rare, and the MLP's crosses overfit where traces are few, so no architecture
    is best on every corpus. Traces fall into `config.folds` folds as in `encode_training`
    (their features already come from the other folds); each architecture is trained on all
    folds but one, and the mean reciprocal rank over every held-out decision decides. No test
    trace is read: `data` holds training decisions only. An `arch` outside the choices is kept
    as asked.
    """
    if len(config.arch_choices) < 2 or config.arch not in config.arch_choices or not _small(data, config):
        return config.arch
    fold = np.array([trace_bucket(t, max(config.folds, 2)) for t in data.traces])
    folds = np.unique(fold)
    best, best_mrr, done, total = config.arch, -1.0, 0, len(config.arch_choices) * len(folds)
    report(progress, CHOOSE, 0, total)
    for arch in config.arch_choices:
        ranks = []
        for k in folds:
            fit_rows, val_rows = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            if len(fit_rows):
                model, _ = fit_scorer(data.subset(fit_rows), columns, replace(config, arch=arch, seeds=1), n_items)
                ranks.append(_reciprocal_ranks(model, data.subset(val_rows).with_feats(data.feats[val_rows][..., columns])))
            done += 1
            report(progress, CHOOSE, done, total)
        mrr = float(np.concatenate(ranks).mean()) if ranks else -1.0
        logger.info("held-out training traces: %s MRR %.4f", arch, mrr)
        if mrr > best_mrr:
            best, best_mrr = arch, mrr
    return best


def fit_chosen(data: Encoded, columns: np.ndarray, config: RecommenderConfig, n_items: int,
               progress: Progress | None = None) -> tuple[Scorer | Ensemble, list[float]]:
    """`fit_scorer` with the architecture `choose_arch` picks, averaged over `config.seeds` scorers
    on corpora small enough to select on (one scorer above `config.select_below`)."""
    seeds = config.seeds if _small(data, config) else 1
    arch = choose_arch(data, columns, config, n_items, progress)
    return fit_scorer(data, columns, replace(config, arch=arch, seeds=seeds), n_items, progress)


def _fold_progress(progress: Progress | None, totals: dict[str, int]) -> tuple[Progress | None, dict[str, int]]:
    """A callback that reports several runs of the same stages as one: each run's counts go on
    from where the runs before it (whose sizes the caller adds to the returned offsets) ended."""
    if progress is None:
        return None, {}
    offsets = dict.fromkeys(totals, 0)

    def forward(stage: str, done: int, _: int) -> None:
        report(progress, stage, offsets[stage] + done, totals[stage])

    return forward, offsets


def encode_training(rec: Recommender, store: CallTreeStore, train_ids: Sequence[str],
                    progress: Progress | None = None) -> Encoded:
    """Training decisions with out-of-fold statistics: each trace's features come from the others.

    Statistics that counted a decision's own trace would always show its chosen item as seen
    and its transition as observed, which is never so for a new trace; the scorer would learn
    to distrust cold items. Traces fall into `config.folds` folds by a hash of their id; the
    decisions of one fold are featurised (and their item ids masked) with the statistics of
    the others, exactly as a held-out trace is.
    """
    folds = max(rec.config.folds, 1)
    fold_of = {t: trace_bucket(t, folds) for t in train_ids}
    inside = [[t for t in train_ids if fold_of[t] == k] for k in range(folds)]
    examples = [examples_from_store(store, ids) if ids else [] for ids in inside]
    texts = [len(query_texts([e.context for e in exs])) for exs in examples]
    forward, offsets = _fold_progress(progress, {EMBED_QUERIES: sum(texts), FEATURES: sum(map(len, examples))})
    parts = []
    for k in range(folds):
        if not inside[k]:
            continue
        outside = [t for t in train_ids if fold_of[t] != k] if folds > 1 else inside[k]
        stats = build_stats(store.iter_trees(outside))
        env = FeatureEnv(rec.catalog, stats)
        vocab = {label: i for label, i in rec.vocab.items() if stats.calls.get(label) or stats.parent_calls.get(label)}
        parts.append(rec.encode(examples[k], force_chosen=True, env=env, vocab=vocab, progress=forward))
        if offsets:
            offsets[EMBED_QUERIES] += texts[k]
            offsets[FEATURES] += len(examples[k])
    return concat(parts)


def train_scorer(rec: Recommender, data: Encoded, progress: Progress | None = None) -> list[float]:
    """Train a fresh scorer for `rec` on already encoded decisions (all feature columns); the
    losses per epoch."""
    rec.model, losses = fit_chosen(data, rec.columns, rec.config, len(rec.vocab) + 1, progress)
    return losses


def fit_recommender(store: CallTreeStore, train_ids: Sequence[str], embeddings: Embeddings,
                    config: RecommenderConfig | None = None, cache_dir: Path | None = None,
                    embedder_name: str = "embeddings", progress: Progress | None = None) -> Recommender:
    """Learn from the traces `train_ids` of `store` (the catalogue spans the whole store): the
    agent-level scorer, and the team recommender where the traces hold teams enough
    (`teamfit.learns_teams`; else `rec.team` is None).

    `cache_dir` keeps the catalogue's item vectors between fits (keyed by `embedder_name` and
    the item texts); `progress` hears of every long step.
    """
    config = config or RecommenderConfig()
    stats = build_stats(store.iter_trees(train_ids))
    catalog = catalog_from_store(store, store.iter_trees(), embeddings, cache_dir, embedder_name, progress)
    rec = Recommender(catalog, stats, Scorer(ScorerConfig(n_features=1)), item_vocab(stats), config)
    train_scorer(rec, encode_training(rec, store, train_ids, progress), progress)
    if learns_teams(list(store.iter_trees(train_ids))):
        rec.team = fit_team_model(rec, store, train_ids, config.team)
    return rec
