"""Conformance suite run against every vector index type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from coachgraph.errors import ConfigError, InputError
from coachgraph.retrieval import INDEXES, VectorIndex, create_index, load_index
from coachgraph.retrieval.dense import normalize

DIM = 16
BUILDERS: dict[str, Callable[[], VectorIndex]] = {
    "memory": lambda: create_index("memory", DIM),
    "faiss-flat": lambda: create_index("faiss", DIM, factory="Flat"),
    "faiss-ivf": lambda: create_index("faiss", DIM, factory="IVF4,Flat", search_params={"nprobe": 4}),
    "faiss-hnsw": lambda: create_index("faiss", DIM, factory="HNSW16"),
}


@pytest.fixture(params=sorted(BUILDERS))
def index(request: pytest.FixtureRequest) -> VectorIndex:
    return BUILDERS[request.param]()


def _data(n: int = 60, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    return [f"item-{i}" for i in range(n)], normalize(rng.standard_normal((n, DIM)))


def test_registry_lists_both_types() -> None:
    assert {"memory", "faiss"} <= set(INDEXES)
    with pytest.raises(ConfigError, match="unknown index type 'nope'"):
        create_index("nope", DIM)


def test_empty_index_returns_nothing(index: VectorIndex) -> None:
    assert index.search(np.ones((2, DIM), dtype=np.float32), 3) == [[], []]
    assert len(index) == 0


def test_add_search_ranks_by_score(index: VectorIndex) -> None:
    ids, vectors = _data()
    index.add(ids, vectors)
    hits = index.search_one(vectors[7], 5)
    assert hits[0].id == "item-7"
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(index) == 60 and "item-3" in index


def test_a_few_queries_find_what_a_large_batch_finds(index: VectorIndex) -> None:
    # Small batches take faiss's one-thread helper path, large ones faiss's own threads.
    ids, vectors = _data()
    index.add(ids, vectors)
    queries = normalize(np.random.default_rng(1).standard_normal((40, DIM)))
    together = index.search(queries, 5)
    apart = [hits for start in range(0, 40, 3) for hits in index.search(queries[start:start + 3], 5)]
    assert [[h.id for h in hits] for hits in apart] == [[h.id for h in hits] for hits in together]
    assert np.allclose([[h.score for h in hits] for hits in apart], [[h.score for h in hits] for hits in together])
    (single,) = index.search(queries[0], 5)
    assert [h.id for h in single] == [h.id for h in together[0]]


def test_remove_and_replace(index: VectorIndex) -> None:
    ids, vectors = _data()
    index.add(ids, vectors)
    assert index.remove(["item-7", "missing"]) == 1
    assert all(h.id != "item-7" for h in index.search_one(vectors[7], 10))
    index.add(["item-8"], vectors[9:10])
    assert index.search_one(vectors[9], 2)[0].id in {"item-8", "item-9"}
    assert len(index) == 59
    np.testing.assert_allclose(index.vectors(["item-8"])[0], vectors[9], atol=1e-5)


def test_save_load_keeps_ids(index: VectorIndex, tmp_path: Path) -> None:
    ids, vectors = _data()
    index.add(ids, vectors)
    index.remove(["item-1"])
    index.save(tmp_path / "ix")
    loaded = load_index(tmp_path / "ix")
    assert sorted(loaded.ids()) == sorted(index.ids())
    assert loaded.search_one(vectors[5], 3) == index.search_one(vectors[5], 3)
    loaded.add(["new"], vectors[1:2])
    assert loaded.search_one(vectors[1], 1)[0].id == "new"


def test_bad_shapes_are_rejected(index: VectorIndex) -> None:
    with pytest.raises(InputError, match="shape"):
        index.add(["a"], np.zeros((1, DIM + 1)))
    with pytest.raises(InputError, match="ids"):
        index.add(["a", "b"], np.zeros((1, DIM)))


def test_load_rejects_other_kind(tmp_path: Path) -> None:
    create_index("memory", DIM).save(tmp_path / "m")
    with pytest.raises(InputError, match="expected 'faiss'"):
        INDEXES["faiss"].load(tmp_path / "m")
