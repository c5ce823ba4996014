"""BM25, fusion methods, the re-ranking hook and the hybrid retriever."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from coachgraph.errors import ConfigError
from coachgraph.retrieval import (
    BM25Index,
    CalibratedScoreFusion,
    DenseRetriever,
    Hit,
    HybridRetriever,
    PriorReranker,
    ReciprocalRankFusion,
    create_fusion,
    ndcg_at_k,
    recall_at_k,
)
from coachgraph.retrieval.text import split_clauses, tokenize
from tests.fakes import HashEmbeddings

DOCS = {
    "weather": "getWeatherForecast: forecast the weather for a city",
    "hotel": "bookHotelRoom: book a hotel room in a city",
    "flight": "searchFlights: find flights between two airports",
    "recipe": "findRecipe: find cooking recipes with an ingredient",
}


def _bm25() -> BM25Index:
    index = BM25Index()
    index.add(list(DOCS), list(DOCS.values()))
    return index


def test_tokenize_splits_identifiers() -> None:
    assert tokenize("getWeatherForecast") == ["get", "weather", "forecast"]


def test_bm25_ranks_and_updates(tmp_path: Path) -> None:
    index = _bm25()
    assert index.search("weather in Paris", 2)[0].id == "weather"
    assert index.search("zebra", 3) == []
    index.remove(["weather"])
    assert all(h.id != "weather" for h in index.search("weather forecast", 4))
    index.add(["weather"], ["climate outlook"])
    assert index.search("climate", 1)[0].id == "weather"
    index.save(tmp_path / "bm")
    assert BM25Index.load(tmp_path / "bm").search("hotel room", 1) == index.search("hotel room", 1)


def test_bm25_p50_under_10ms_at_10k_docs() -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3000)]
    index = BM25Index()
    index.add([f"d{i}" for i in range(10_000)], [" ".join(rng.choice(words, 12)) for _ in range(10_000)])
    queries = [" ".join(rng.choice(words, 6)) for _ in range(50)]
    index.search(queries[0], 5)
    times = []
    for q in queries:
        start = time.perf_counter()
        index.search(q, 5)
        times.append(time.perf_counter() - start)
    assert float(np.median(times)) < 0.010


def test_rrf_rewards_agreement() -> None:
    fused = ReciprocalRankFusion(c=60).fuse({"a": [Hit("x", 9), Hit("y", 8)], "b": [Hit("y", 1), Hit("z", 0.5)]}, 3)
    assert [h.id for h in fused] == ["y", "x", "z"]


def test_calibrated_fusion_fits_and_round_trips() -> None:
    rankings = [{"dense": [Hit("g", 0.9), Hit("n", 0.8)], "bm25": [Hit("n", 5.0), Hit("g", 4.0)]} for _ in range(20)]
    fusion = CalibratedScoreFusion(sources=["bm25", "dense"]).fit(rankings, [{"g"}] * 20)
    fused = fusion.fuse(rankings[0], 2)
    assert fused[0].id == "g" and 0.0 < fused[1].score < fused[0].score < 1.0
    again = create_fusion("calibrated", **{k: v for k, v in fusion.to_dict().items() if k != "name"})
    assert again.fuse(rankings[0], 2) == fused
    with pytest.raises(ConfigError, match="unknown fusion"):
        create_fusion("nope")


def test_hybrid_with_reranker_and_persistence(tmp_path: Path) -> None:
    emb = HashEmbeddings(dims=32)
    hybrid = HybridRetriever({"bm25": BM25Index(), "dense": DenseRetriever(emb, aspects=True)}, CalibratedScoreFusion(sources=["bm25", "dense"]))
    hybrid.add(list(DOCS), list(DOCS.values()))
    assert hybrid.search("book a hotel room", 1)[0].id == "hotel"
    hybrid.reranker = PriorReranker(lambda i: 1.0 if i == "recipe" else 0.0, weight=0.9)
    assert hybrid.search("book a hotel room", 1)[0].id == "recipe"
    hybrid.save(tmp_path / "h")
    loaded = HybridRetriever.load(tmp_path / "h", {"bm25": BM25Index.load, "dense": lambda p: DenseRetriever.load(p, emb)})
    assert loaded.search("weather forecast", 2) == HybridRetriever(hybrid.retrievers, hybrid.fusion).search("weather forecast", 2)


def test_dense_reembeds_only_changed_texts() -> None:
    class Counting(HashEmbeddings):
        calls = 0

        def embed_documents(self, texts):  # type: ignore[no-untyped-def]
            Counting.calls += len(texts)
            return super().embed_documents(texts)

    dense = DenseRetriever(Counting(dims=16))
    dense.add(list(DOCS), list(DOCS.values()))
    dense.add(list(DOCS), [*list(DOCS.values())[:3], "changed text"])
    assert Counting.calls == 5


def test_metrics_and_clauses() -> None:
    assert recall_at_k(["a", "b"], {"b", "c"}, 2) == 0.5
    assert ndcg_at_k(["a"], {"a"}, 5) == 1.0
    assert split_clauses("Book a hotel in Rome and then find flights to Rome") == ["Book a hotel in Rome", "find flights to Rome"]
