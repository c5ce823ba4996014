"""Offline evaluation: every method on the same held-out decisions and traces.

Traces are split 80/20 with a fixed seed, or into K folds of which each is held out once (a
cross-validation: every trace is tested once, so intervals rest on every trace, not a fifth of
them); statistics, vocabulary and every model come from the training traces of a split only.
Agent level: Top-1, Top-3, MRR and NDCG@10, with ties between scores counted in expectation (a
random tie-break), a chosen item that retrieval missed counting as a miss, and 95% bootstrap
intervals; the learned scorer's margin over every other method comes with a paired interval;
the same figures for the decisions made at handoffs alone (which agent a supervisor hands to)
where the test traces hold any. System level (`evaluate_team`): every team method on the test
traces, none told the size of the true team.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from coachgraph.calltree.base import CallTreeStore
from coachgraph.recommend.baselines import LEARNED, METHODS, Method
from coachgraph.recommend.catalog import Catalog, catalog_from_store
from coachgraph.recommend.context import HANDOFF, Example
from coachgraph.recommend.evaluate_team import bootstrap, summarise_teams, team_rows, team_table
from coachgraph.recommend.fitting import encode_training, examples_from_store, item_vocab
from coachgraph.recommend.recommender import Recommender, RecommenderConfig
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import build_stats
from coachgraph.recommend.train import Encoded

__all__ = ["AGENT_METRICS", "bootstrap", "encode_split", "fold_splits", "markdown_table", "rank_metrics", "run_benchmark",
           "split_traces"]

logger = logging.getLogger(__name__)

AGENT_METRICS = ("top1", "top3", "mrr", "ndcg10")


def split_traces(trace_ids: Sequence[str], seed: int = 0, train_share: float = 0.8) -> tuple[list[str], list[str]]:
    """Shuffle trace ids with `seed` and cut them into (train, test), both sorted."""
    ids = sorted(trace_ids)
    random.Random(seed).shuffle(ids)
    cut = int(round(train_share * len(ids)))
    return sorted(ids[:cut]), sorted(ids[cut:])


def fold_splits(trace_ids: Sequence[str], folds: int, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    """Shuffle trace ids with `seed`, cut them into `folds` parts of near-equal size, and give each
    part as the test set once, the rest as its training set (both sorted).

    >>> [(len(a), b) for a, b in fold_splits(["a", "b", "c", "d", "e"], 2, seed=1)]
    [(2, ['b', 'c', 'e']), (3, ['a', 'd'])]
    """
    ids = sorted(trace_ids)
    random.Random(seed).shuffle(ids)
    parts = [sorted(ids[i::folds]) for i in range(folds)]
    return [(sorted(i for j, p in enumerate(parts) if j != k for i in p), parts[k]) for k in range(folds)]


def rank_metrics(scores: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Per decision, expected Top-1, Top-3, reciprocal rank and NDCG@10 under random tie-breaks."""
    n = len(targets)
    out = {m: np.zeros(n) for m in AGENT_METRICS}
    for i in np.flatnonzero(targets >= 0):
        s, t = scores[i], scores[i, targets[i]]
        greater, ties = int((s > t).sum()), int((s == t).sum()) - 1
        ranks = np.arange(greater + 1, greater + ties + 2, dtype=np.float64)  # equally likely ranks
        out["top1"][i] = (ranks <= 1).mean()
        out["top3"][i] = (ranks <= 3).mean()
        out["mrr"][i] = (1.0 / ranks).mean()
        out["ndcg10"][i] = np.where(ranks <= 10, 1.0 / np.log2(ranks + 1), 0.0).mean()
    return out


def _summary(per: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {m: float(v.mean()) if len(v) else 0.0 for m, v in per.items()}
    out["n"] = int(len(per["mrr"]))
    out["ci95"] = {m: list(bootstrap(v, seed)) for m, v in per.items()}
    return out


def _margins(per: dict[str, dict[str, np.ndarray]], seed: int) -> dict[str, Any]:
    """The learned scorer minus each other method on Top-1 and MRR, with paired 95% bootstrap intervals.

    Every method ranks the same decisions, so the interval is of the per-decision difference;
    it is narrower and more honest than comparing two separate intervals.
    """
    if LEARNED not in per:
        return {}
    ours = per[LEARNED]
    return {name: {m: {"mean": float((ours[m] - p[m]).mean()) if len(p[m]) else 0.0,
                       "ci95": list(bootstrap(ours[m] - p[m], seed))} for m in ("top1", "mrr")}
            for name, p in per.items() if name != LEARNED}


def _informative(data: Encoded) -> Encoded:
    """Decisions with a real choice: two or more feasible candidates."""
    return data.subset(np.flatnonzero(data.mask.sum(1) >= 2))


def _latency(rec: Recommender, examples: Sequence[Example], limit: int = 200) -> dict[str, float]:
    """Per-query latency of `rank` (query vectors cached), with the threads the caller set: the
    benchmark command runs with one torch and one BLAS thread, as `coachgraph serve` does."""
    times = []
    for ex in examples[:limit]:
        start = time.perf_counter()
        rec.rank(ex.context, k=5)
        times.append(1000 * (time.perf_counter() - start))
    if not times:
        return {"p50": 0.0, "p99": 0.0}
    return {"p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99))}


def encode_split(store: CallTreeStore, catalog: Catalog, train_ids: Sequence[str], test_ids: Sequence[str],
                 config: RecommenderConfig) -> tuple[Recommender, Encoded, Encoded, list[Example]]:
    """A recommender whose statistics and vocabulary come from `train_ids` alone, its training
    decisions (features out of fold) and the decisions of `test_ids` with their examples; only
    decisions with at least two candidates are kept, since one candidate ranks itself first."""
    stats = build_stats(store.iter_trees(train_ids))
    rec = Recommender(catalog, stats, Scorer(ScorerConfig(n_features=1)), item_vocab(stats), config)
    test_ex = examples_from_store(store, test_ids)
    train_data, test_data = encode_training(rec, store, train_ids), rec.encode(test_ex)
    keep = np.flatnonzero(test_data.mask.sum(1) >= 2)
    return rec, _informative(train_data), test_data.subset(keep), [test_ex[i] for i in keep]


def run_benchmark(store: CallTreeStore, embeddings: Embeddings, config: RecommenderConfig | None = None,
                  seed: int = 0, cache_dir: Path | None = None, methods: Sequence[str] | None = None,
                  folds: int = 1) -> dict[str, Any]:
    """Split (80/20, or `folds` folds), train every method on each split's training traces, and
    score all on the same test data; with folds, every figure pools the test data of all folds."""
    config = config or RecommenderConfig()
    ids = store.trace_ids()
    splits = [split_traces(ids, seed)] if folds <= 1 else fold_splits(ids, folds, seed)
    catalog = catalog_from_store(store, store.iter_trees(), embeddings, cache_dir)
    queries = cache_dir / "queries.npy" if cache_dir is not None else None
    if queries is not None:
        catalog.load_queries(queries)
    per_split, teams, handoffs, targets, train_sizes = [], [], [], [], []
    latency: dict[str, float] = {}
    for train_ids, test_ids in splits:
        rec, train_data, test_data, examples = encode_split(store, catalog, train_ids, test_ids, config)
        if queries is not None:
            catalog.save_queries(queries)
        fitted: dict[str, Method] = {}
        per: dict[str, dict[str, np.ndarray]] = {}
        for name in methods or list(METHODS):
            method = METHODS[name](config)
            start = time.perf_counter()
            method.fit(train_data, len(rec.vocab) + 1)
            logger.info("%s trained in %.1f s", name, time.perf_counter() - start)
            fitted[name] = method
            per[name] = rank_metrics(method.scores(test_data), test_data.targets)
        rec.model = getattr(fitted.get(LEARNED), "model", rec.model)
        teams.append(team_rows(rec, store, train_ids, test_ids, seed))
        per_split.append(per)
        handoffs.append(np.array([ex.context.parent.startswith(HANDOFF) for ex in examples], bool))
        targets.append(test_data.targets)
        train_sizes.append(len(train_data))
        latency = latency or _latency(rec, examples)
    per = {name: {m: np.concatenate([p[name][m] for p in per_split]) for m in AGENT_METRICS} for name in per_split[0]}
    at = np.concatenate(handoffs)
    at_handoffs = {name: {m: v[at] for m, v in p.items()} for name, p in per.items()} if at.any() else {}
    target = np.concatenate(targets)
    return {"agent_level": {name: _summary(p, seed) for name, p in per.items()}, "margins": _margins(per, seed),
            "at_handoffs": {name: _summary(p, seed) for name, p in at_handoffs.items()},
            "margins_at_handoffs": _margins(at_handoffs, seed),
            "system_level": summarise_teams(teams, seed), "latency_ms": latency,
            "retrieval_recall": float((target >= 0).mean()) if len(target) else 0.0,
            "decisions": {"train": round(float(np.mean(train_sizes))), "test": len(target)},
            "traces": {"train": round(float(np.mean([len(a) for a, _ in splits]))),
                       "test": sum(len(b) for _, b in splits)},
            "folds": max(folds, 1)}


def markdown_table(result: dict[str, Any]) -> str:
    """The benchmark result as markdown tables (value and 95% interval per metric)."""
    def cell(row: dict[str, Any], m: str) -> str:
        lo, hi = row["ci95"][m]
        return f"{row[m]:.3f} [{lo:.3f}, {hi:.3f}]"

    def rows(level: dict[str, Any], margins: dict[str, Any]) -> list[str]:
        out = ["| method | Top-1 | Top-3 | MRR | NDCG@10 | n |", "|---|---|---|---|---|---|"]
        out += [f"| {name} | " + " | ".join(cell(row, m) for m in AGENT_METRICS) + f" | {row['n']} |"
                for name, row in level.items()]
        if margins:
            out += ["", f"| {LEARNED} minus | Top-1 | MRR |", "|---|---|---|"]
            out += [f"| {name} | " + " | ".join(f"{row[m]['mean']:+.3f} [{row[m]['ci95'][0]:+.3f}, {row[m]['ci95'][1]:+.3f}]"
                                              for m in ("top1", "mrr")) + " |"
                    for name, row in margins.items()]
        return out

    lines = rows(result["agent_level"], result.get("margins", {}))
    if result.get("at_handoffs"):
        lines += ["", "At handoffs (which agent a handoff hands to):", ""]
        lines += rows(result["at_handoffs"], result.get("margins_at_handoffs", {}))
    lat = result["latency_ms"]
    lines += ["", f"latency of one `recommend next` query: p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms", "",
              "System level (no method is told the team's size):", "", team_table(result["system_level"])]
    return "\n".join(lines)
