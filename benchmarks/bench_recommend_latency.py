"""Latency of `recommend next` over 5,000 candidate agents, and training time on 100,000 decisions.

Both figures come from a real ingested store. The catalogue is the store's own, grown to
`--agents` items by adding renamed copies of its entries (same descriptions), and embedded once
(cached beside the store). Query vectors are computed before timing, so the figure is the
recommender's own work: retrieval over every candidate, features, scoring and explanation. The
100,000 training decisions are the store's real decisions, encoded once and replicated.

Run: ``python benchmarks/bench_recommend_latency.py --store traces.sqlite``
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from coachgraph.calltree.stores import open_store
from coachgraph.config import Settings
from coachgraph.models import load_embeddings
from coachgraph.recommend.catalog import Catalog, CatalogItem, catalog_from_store
from coachgraph.recommend.checkpoint import model_dir
from coachgraph.recommend.context import DecisionContext, root_context
from coachgraph.recommend.fitting import examples_from_store, item_vocab, train_scorer
from coachgraph.recommend.recommender import Recommender, RecommenderConfig
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import build_stats
from coachgraph.recommend.train import Encoded


def grown_catalog(base: Catalog, size: int, cache: Path, embedder: str) -> Catalog:
    """The store's catalogue plus renamed copies until it holds `size` agents."""
    items = [CatalogItem(i.name, "agent", i.description) for i in base.items]
    copy = 1
    while len(items) < size:
        items += [CatalogItem(f"{i.name}~{copy}", "agent", i.description) for i in base.items[: size - len(items)]]
        copy += 1
    return Catalog(items[:size], base.embeddings, cache, embedder)


def replicate(data: Encoded, n: int) -> Encoded:
    """`data`'s decisions repeated to `n` rows.

    Every copy keeps its trace id, so all copies of a held-out trace stay held out and early
    stopping sees decisions the scorer never trained on, as with a real corpus.
    """
    return data.subset(np.resize(np.arange(len(data)), n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as `coachgraph serve` runs: one torch and one BLAS thread
    threadpool_limits(limits=1)
    settings = Settings.from_env()
    cache = model_dir(args.store, settings.cache)
    with open_store(args.store) as store:
        ids = store.trace_ids()
        embeddings = load_embeddings(settings.default_embeddings)
        base = catalog_from_store(store, store.iter_trees(), embeddings, cache, settings.default_embeddings)
        stats = build_stats(store.iter_trees(ids))
        examples = examples_from_store(store, ids)
    catalog = grown_catalog(base, args.agents, cache, settings.default_embeddings)
    rec = Recommender(catalog, stats, Scorer(ScorerConfig(n_features=1)), item_vocab(stats), RecommenderConfig())
    start = time.perf_counter()
    rec.embed_contexts([e.context for e in examples])
    embed_s = time.perf_counter() - start
    start = time.perf_counter()
    data = rec.encode(examples, force_chosen=True)
    encode_s = time.perf_counter() - start
    print(f"featurising {len(data):,} real decisions: query embeddings {embed_s:.1f} s, then retrieval and "
          f"features {encode_s:.1f} s ({len(data) / encode_s:,.0f} decisions/s)")
    big = replicate(data, args.decisions)
    start = time.perf_counter()
    losses = train_scorer(rec, big)
    train_s = time.perf_counter() - start
    print(f"training: {len(big):,} decisions (replicated from {len(data):,} real ones), "
          f"{big.feats.shape[1]} candidates x {big.feats.shape[2]} features, {len(losses)} epochs: {train_s:.1f} s")
    names = catalog.names()
    tasks = sorted({e.context.task for e in examples})[: args.queries]
    fresh = [root_context("bench", task, names) for task in tasks]
    step = max(1, len(examples) // args.queries)
    inside = [replace(e.context, candidates=tuple(names)) for e in examples[::step]][: args.queries]
    for label, contexts in (("a new task", fresh), ("a step inside a stored trace", inside)):
        times = query_times(rec, contexts)
        print(f"recommend next for {label} over {len(names):,} candidate agents ({len(times)} queries, "
              f"query vectors cached): p50 {statistics.median(times):.2f} ms, p99 {times[int(0.99 * (len(times) - 1))]:.2f} ms")


def query_times(rec: Recommender, contexts: list[DecisionContext]) -> list[float]:
    """Sorted milliseconds of `rank` per context, its query vectors embedded beforehand."""
    for ctx in contexts:
        rec.catalog.embed_queries([ctx.task, ctx.local_text or ctx.task])
    times = []
    for ctx in contexts:
        start = time.perf_counter()
        rec.rank(ctx, k=5)
        times.append(1000 * (time.perf_counter() - start))
    return sorted(times)

if __name__ == "__main__":
    main()
