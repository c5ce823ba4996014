"""The agent-level recommender: retrieve feasible candidates, featurise, score with a `Scorer`.

A `Recommender` holds what serving needs (catalogue, training statistics, item vocabulary,
scorer) and answers one decision with `rank`, with per-group explanations; `encode` featurises
many decisions at once for training and evaluation. It is fitted by `fitting.fit_recommender`,
written and read by `checkpoint`, and served by `service.RecommendService`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from pydantic import BaseModel

from coachgraph.recommend.candidates import Candidates, Constraints, retrieve
from coachgraph.recommend.catalog import Catalog
from coachgraph.recommend.context import DecisionContext, Example
from coachgraph.recommend.ensemble import Ensemble
from coachgraph.recommend.features import FeatureEnv, feature_names, featurize
from coachgraph.recommend.progress import EMBED_QUERIES, FEATURES, Progress, report
from coachgraph.recommend.scorer import Scorer
from coachgraph.recommend.stats import InteractionStats
from coachgraph.recommend.teammodel import TeamModelConfig
from coachgraph.recommend.train import Encoded, ScorerTrainConfig, batch_tensors, encode

if TYPE_CHECKING:
    from coachgraph.recommend.teamrec import TeamModel

__all__ = ["Recommendation", "Recommender", "RecommenderConfig", "query_texts"]

EMBED_CHUNK = 512
"""Query texts embedded per call when featurising many decisions."""
FEATURE_REPORT = 256
"""Decisions featurised between two progress reports."""


@dataclass(frozen=True)
class RecommenderConfig:
    """What a recommender is made of and how it is trained."""

    arch: str = "mlp"
    """Scorer architecture (a key of `scorer.ARCHS`)."""
    n_candidates: int = 64
    """Candidates kept after retrieval (the scorer ranks only these)."""
    columns: tuple[str, ...] = ()
    """Feature columns the scorer sees (``group.feature``); empty: all."""
    train: ScorerTrainConfig = field(default_factory=ScorerTrainConfig)
    """Training settings."""
    seed: int = 0
    """Seed of the scorer's initial weights."""
    seeds: int = 1
    """Scorers trained from seeds `seed`, `seed` + 1, ... whose scores are averaged (an `Ensemble`
    when above 1, on corpora below `select_below` only). On traces held out from the training
    splits five beat one by 4 to 11 of 600 to 2,500 decisions on Who&When and NESTFUL and lost 2
    to 3 elsewhere; one is the default because five multiply the cost of every served query."""
    folds: int = 5
    """Folds of training traces for out-of-fold statistics (see `fitting.encode_training`)."""
    arch_choices: tuple[str, ...] = ("mlp", "seq", "linear")
    """Architectures `choose_arch` compares on folds of training traces, the preferred one first.
    `linear` is among them because the MLP's crosses overfit a corpus of few traces: on folds of
    ToolBench's training traces it ranked 102 of 259 decisions first against 88 without it."""
    select_below: int = 50_000
    """Most training candidate rows for which `choose_arch` compares (one extra fit of a few
    seconds per fold and architecture) and `seeds` scorers are averaged; above it one scorer of `arch` is
    trained. On the large corpora's held-out training traces neither `seq` nor more seeds
    helped, and there they would multiply a training time that is already the longest."""
    team: TeamModelConfig = field(default_factory=TeamModelConfig)
    """How the team recommender is learned (`teamfit.fit_team_model`)."""


class Recommendation(BaseModel):
    """One ranked candidate with its score and where the score comes from."""

    name: str
    score: float
    probability: float
    retrieval: float
    contributions: dict[str, float]


def query_texts(contexts: Sequence[DecisionContext]) -> list[str]:
    """The distinct texts embedded for `contexts` (task and local subtask), sorted."""
    return sorted({t for c in contexts for t in (c.task, c.local_text or c.task)})


class Recommender:
    """A trained agent-level recommender over one catalogue."""

    def __init__(self, catalog: Catalog, stats: InteractionStats, model: Scorer | Ensemble, vocab: dict[str, int],
                 config: RecommenderConfig) -> None:
        self.catalog, self.stats, self.model, self.vocab, self.config = catalog, stats, model, vocab, config
        self.team: TeamModel | None = None
        """The system-level recommender fitted beside the agent-level one (`teamfit.fit_team_model`)."""
        self.env = FeatureEnv(catalog, stats)
        names = feature_names()
        self.columns = np.array([names.index(c) for c in config.columns] if config.columns else range(len(names)))

    def embed_contexts(self, contexts: Sequence[DecisionContext], progress: Progress | None = None) -> None:
        """Embed the task and subtask texts of `contexts` in batches, so featurising never waits on one."""
        texts = query_texts(contexts)
        self.catalog.reserve_queries(len(texts))
        report(progress, EMBED_QUERIES, 0, len(texts))
        for lo in range(0, len(texts), EMBED_CHUNK):
            self.catalog.embed_queries(texts[lo:lo + EMBED_CHUNK])
            report(progress, EMBED_QUERIES, min(lo + EMBED_CHUNK, len(texts)), len(texts))

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
               vocab: dict[str, int] | None = None, progress: Progress | None = None) -> Encoded:
        """Retrieve and featurise decisions into padded arrays, all feature columns (labels only set targets).

        `env` and `vocab` default to the recommender's own (statistics of all training traces).
        """
        env = env or self.env
        self.embed_contexts([e.context for e in examples], progress)
        rows = []
        report(progress, FEATURES, 0, len(examples))
        for i, ex in enumerate(examples, 1):
            cands = self.candidates(ex.context, constraints, ex.chosen if force_chosen else None, env.stats)
            rows.append((ex.context, cands, featurize(env, ex.context, cands), ex.chosen))
            if i % FEATURE_REPORT == 0 or i == len(examples):
                report(progress, FEATURES, i, len(examples))
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
