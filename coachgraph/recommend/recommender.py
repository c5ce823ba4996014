"""The agent-level recommender: retrieve feasible candidates, featurise, score with a `Scorer`.

`Recommender.fit` learns everything from the training traces of a store (statistics, item
vocabulary, scorer weights); `rank` answers one decision with per-group explanations. The whole
state saves to one file beside the store, so serving loads it instead of retraining.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel

from coachgraph.calltree.base import CallTreeStore
from coachgraph.recommend.candidates import Candidates, Constraints, retrieve
from coachgraph.recommend.catalog import Catalog, CatalogItem, catalog_from_store
from coachgraph.recommend.context import DecisionContext, Example, contexts_from_tree
from coachgraph.recommend.ensemble import Ensemble, load_scorer
from coachgraph.recommend.features import FeatureEnv, feature_names, featurize, group_slices
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import InteractionStats, build_stats
from coachgraph.recommend.train import (
    Encoded,
    TrainConfig,
    batch_tensors,
    concat,
    encode,
    trace_bucket,
    train,
)

__all__ = ["Recommendation", "Recommender", "RecommenderConfig", "choose_arch", "examples_from_store", "fit_chosen",
           "fit_scorer"]

logger = logging.getLogger(__name__)

EMBED_CHUNK = 512
"""Query texts embedded per call when featurising many decisions."""
STANDARDIZE_ROWS = 20_000
"""Most decisions read for the feature standardisation statistics."""
MIN_STD = 1e-3
"""Columns whose training spread is below this are not rescaled (a tiny spread would blow up
any value the training set never showed)."""


@dataclass(frozen=True)
class RecommenderConfig:
    """What a recommender is made of and how it is trained."""

    arch: str = "mlp"
    """Scorer architecture (a key of `scorer.ARCHS`)."""
    n_candidates: int = 64
    """Candidates kept after retrieval (the scorer ranks only these)."""
    columns: tuple[str, ...] = ()
    """Feature columns the scorer sees (``group.feature``); empty: all."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Training settings."""
    seed: int = 0
    """Seed of the scorer's initial weights."""
    seeds: int = 1
    """Scorers trained from seeds `seed`, `seed` + 1, ... whose scores are averaged (an `Ensemble`
    when above 1, on corpora below `select_below` only). On traces held out from the training
    splits five beat one by 4 to 11 of 600 to 2,500 decisions on Who&When and NESTFUL and lost 2
    to 3 elsewhere; one is the default because five multiply the cost of every served query."""
    folds: int = 5
    """Folds of training traces for out-of-fold statistics (see `Recommender.encode_training`)."""
    arch_choices: tuple[str, ...] = ("mlp", "seq", "linear")
    """Architectures `choose_arch` compares on folds of training traces, the preferred one first.
    `linear` is among them because the MLP's crosses overfit a corpus of few traces: on folds of
    ToolBench's training traces it ranked 102 of 259 decisions first against 88 without it."""
    select_below: int = 50_000
    """Most training candidate rows for which `choose_arch` compares (one extra fit of a few
    seconds per fold and architecture) and `seeds` scorers are averaged; above it one scorer of `arch` is
    trained. On the large corpora's held-out training traces neither `seq` nor more seeds
    helped, and there they would multiply a training time that is already the longest."""


class Recommendation(BaseModel):
    """One ranked candidate with its score and where the score comes from."""

    name: str
    score: float
    probability: float
    retrieval: float
    contributions: dict[str, float]


def examples_from_store(store: CallTreeStore, trace_ids: Iterable[str]) -> list[Example]:
    """Every decision of the named traces, with its past-only context."""
    out: list[Example] = []
    for tree in store.iter_trees(trace_ids):
        out.extend(contexts_from_tree(tree, store.decision_points(tree.trace_id)))
    return out


def _vocab(stats: InteractionStats) -> dict[str, int]:
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


def fit_scorer(data: Encoded, columns: np.ndarray, config: RecommenderConfig,
               n_items: int) -> tuple[Scorer | Ensemble, list[float]]:
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
    for k in range(max(config.seeds, 1)):
        model = Scorer(replace(cfg, seed=config.seed + k))
        losses.append(train(model, view, replace(config.train, seed=config.train.seed + k)))
        members.append(model)
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


def choose_arch(data: Encoded, columns: np.ndarray, config: RecommenderConfig, n_items: int) -> str:
    """The architecture of `config.arch_choices` whose scorer ranks held-out training traces best.

    Item embeddings and a path encoder (`seq`) help where items recur across traces and overfit
    where they are rare, and the MLP's crosses overfit where traces are few, so no architecture
    is best on every corpus. Traces fall into
    `config.folds` folds as in `Recommender.encode_training` (their features already come from
    the other folds); each architecture is trained on all folds but one, and the mean reciprocal
    rank over every held-out decision decides. No test trace is read: `data` holds training
    decisions only. An `arch` outside the choices is kept as asked.
    """
    if len(config.arch_choices) < 2 or config.arch not in config.arch_choices or not _small(data, config):
        return config.arch
    fold = np.array([trace_bucket(t, max(config.folds, 2)) for t in data.traces])
    best, best_mrr = config.arch, -1.0
    for arch in config.arch_choices:
        ranks = []
        for k in np.unique(fold):
            fit_rows, val_rows = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            if len(fit_rows):
                model, _ = fit_scorer(data.subset(fit_rows), columns, replace(config, arch=arch, seeds=1), n_items)
                ranks.append(_reciprocal_ranks(model, data.subset(val_rows).with_feats(data.feats[val_rows][..., columns])))
        mrr = float(np.concatenate(ranks).mean()) if ranks else -1.0
        logger.info("held-out training traces: %s MRR %.4f", arch, mrr)
        if mrr > best_mrr:
            best, best_mrr = arch, mrr
    return best


def fit_chosen(data: Encoded, columns: np.ndarray, config: RecommenderConfig,
               n_items: int) -> tuple[Scorer | Ensemble, list[float]]:
    """`fit_scorer` with the architecture `choose_arch` picks, averaged over `config.seeds` scorers
    on corpora small enough to select on (one scorer above `config.select_below`)."""
    seeds = config.seeds if _small(data, config) else 1
    arch = choose_arch(data, columns, config, n_items)
    return fit_scorer(data, columns, replace(config, arch=arch, seeds=seeds), n_items)


class Recommender:
    """A trained agent-level recommender over one catalogue."""

    def __init__(self, catalog: Catalog, stats: InteractionStats, model: Scorer | Ensemble, vocab: dict[str, int],
                 config: RecommenderConfig) -> None:
        self.catalog, self.stats, self.model, self.vocab, self.config = catalog, stats, model, vocab, config
        self.env = FeatureEnv(catalog, stats)
        names = feature_names()
        self.columns = np.array([names.index(c) for c in config.columns] if config.columns else range(len(names)))

    @classmethod
    def fit(cls, store: CallTreeStore, train_ids: Sequence[str], embeddings: Embeddings,
            config: RecommenderConfig | None = None, cache_dir: Path | None = None) -> Recommender:
        """Learn from the traces `train_ids` of `store` (the catalogue may span the whole store)."""
        config = config or RecommenderConfig()
        stats = build_stats(store.iter_trees(train_ids))
        catalog = catalog_from_store(store, store.iter_trees(), embeddings, cache_dir)
        rec = cls(catalog, stats, Scorer(ScorerConfig(n_features=1)), _vocab(stats), config)
        rec.train_encoded(rec.encode_training(store, train_ids))
        return rec

    def encode_training(self, store: CallTreeStore, train_ids: Sequence[str]) -> Encoded:
        """Training decisions with out-of-fold statistics: each trace's features come from the others.

        Statistics that counted a decision's own trace would always show its chosen item as seen
        and its transition as observed, which is never so for a new trace; the scorer would learn
        to distrust cold items. Traces fall into `config.folds` folds by a hash of their id; the
        decisions of one fold are featurised (and their item ids masked) with the statistics of
        the others, exactly as a held-out trace is.
        """
        folds = max(self.config.folds, 1)
        fold_of = {t: trace_bucket(t, folds) for t in train_ids}
        parts = []
        for k in range(folds):
            inside = [t for t in train_ids if fold_of[t] == k]
            if not inside:
                continue
            outside = [t for t in train_ids if fold_of[t] != k] if folds > 1 else inside
            stats = build_stats(store.iter_trees(outside))
            env = FeatureEnv(self.catalog, stats)
            vocab = {label: i for label, i in self.vocab.items() if stats.calls.get(label) or stats.parent_calls.get(label)}
            parts.append(self.encode(examples_from_store(store, inside), force_chosen=True, env=env, vocab=vocab))
        return concat(parts)

    def train_encoded(self, data: Encoded) -> list[float]:
        """Train a fresh scorer on already encoded decisions (all feature columns)."""
        self.model, losses = fit_chosen(data, self.columns, self.config, len(self.vocab) + 1)
        return losses

    def embed_contexts(self, contexts: Sequence[DecisionContext]) -> None:
        """Embed the task and subtask texts of `contexts` in batches, so featurising never waits on one."""
        texts = sorted({t for c in contexts for t in (c.task, c.local_text or c.task)})
        self.catalog.reserve_queries(len(texts))
        for lo in range(0, len(texts), EMBED_CHUNK):
            self.catalog.embed_queries(texts[lo:lo + EMBED_CHUNK])

    def candidates(self, context: DecisionContext, constraints: Constraints | None = None,
                   chosen: str | None = None, stats: InteractionStats | None = None) -> Candidates:
        """Retrieved candidates; with `chosen` (training only) the chosen item is kept in."""
        stats = stats or self.stats
        cands = retrieve(context, self.catalog, stats, self.config.n_candidates, constraints)
        if chosen is None or chosen in cands.names or not cands.names:
            return cands
        full = retrieve(context, self.catalog, stats, 10**9, constraints)
        if chosen not in full.names:
            return cands
        j = full.names.index(chosen)
        return Candidates([*cands.names[:-1], chosen], np.r_[cands.rows[:-1], full.rows[j]],
                          np.r_[cands.dense[:-1], full.dense[j]], np.r_[cands.lexical[:-1], full.lexical[j]],
                          np.r_[cands.fused[:-1], full.fused[j]])

    def encode(self, examples: Sequence[Example], force_chosen: bool = False,
               constraints: Constraints | None = None, env: FeatureEnv | None = None,
               vocab: dict[str, int] | None = None) -> Encoded:
        """Retrieve and featurise decisions into padded arrays, all feature columns (labels only set targets).

        `env` and `vocab` default to the recommender's own (statistics of all training traces).
        """
        env = env or self.env
        self.embed_contexts([e.context for e in examples])
        rows = []
        for ex in examples:
            cands = self.candidates(ex.context, constraints, ex.chosen if force_chosen else None, env.stats)
            rows.append((ex.context, cands, featurize(env, ex.context, cands), ex.chosen))
        return encode(rows, self.vocab if vocab is None else vocab)

    @torch.no_grad()
    def scores(self, data: Encoded, batch_size: int = 1024) -> np.ndarray:
        """Scores ``(N, C)`` of decisions encoded by `encode` (-inf at padding)."""
        view = data.with_feats(data.feats[..., self.columns])
        out = [self.model(batch_tensors(view, slice(lo, lo + batch_size)))[0].numpy()
               for lo in range(0, len(data), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)

    @torch.inference_mode()
    def rank(self, context: DecisionContext, k: int = 5, constraints: Constraints | None = None) -> list[Recommendation]:
        """The best `k` candidates for one decision, each with per-group contributions."""
        cands = retrieve(context, self.catalog, self.stats, self.config.n_candidates, constraints)
        if not cands.names:
            return []
        x = featurize(self.env, context, cands)[:, self.columns]
        data = encode([(context, cands, x, None)], self.vocab)
        scores, parts = self.model.explain(batch_tensors(data, slice(0, 1)))  # one pass: scores and ablations
        s, prob = scores[0].numpy(), torch.softmax(scores[0], 0).numpy()  # (C,)
        groups = {g: v[0].numpy() for g, v in parts.items()}
        best = np.argsort(-s, kind="stable")[:k].tolist()
        return [Recommendation(name=cands.names[i], score=float(s[i]), probability=float(prob[i]),
                               retrieval=float(cands.fused[i]),
                               contributions={g: float(v[i]) for g, v in groups.items()})
                for i in best]

    def save(self, path: Path) -> None:
        """Write the whole recommender (catalogue vectors included) into one file."""
        extra = {"stats": pickle.dumps(self.stats), "vocab": self.vocab, "config": pickle.dumps(self.config),
                 "items": [asdict(i) for i in self.catalog.items], "vectors": self.catalog.vectors}
        self.model.save(path, extra)

    @classmethod
    def load(cls, path: Path, embeddings: Embeddings) -> Recommender:
        """Read a recommender written by `save`; `embeddings` embeds new queries."""
        model, extra = load_scorer(path)
        items = [CatalogItem(**raw) for raw in extra["items"]]
        catalog = Catalog(items, embeddings, vectors=np.asarray(extra["vectors"], np.float32))
        return cls(catalog, pickle.loads(extra["stats"]), model, dict(extra["vocab"]), pickle.loads(extra["config"]))
