"""Faiss vector index chosen by a factory string, wrapped in `IndexIDMap2` for stable ids.

String ids map to int64 faiss ids kept in a sidecar JSON; IVF types hold the ids themselves. Index types that cannot delete
(HNSW) hide removed ids behind tombstones and over-fetch at search time; types that need
training (IVF) are trained on the first batch that is added.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

import faiss
import numpy as np

from coachgraph.errors import InputError
from coachgraph.retrieval.base import Hit, VectorIndex, read_meta, write_meta
from coachgraph.retrieval.registry import register_index

__all__ = ["FaissVectorIndex"]

logger = logging.getLogger(__name__)

KIND = "faiss"
_NO_REMOVE = (faiss.IndexHNSW, faiss.IndexNSG)
"""Graph indexes whose `remove_ids` aborts the process instead of raising."""


SMALL_SEARCH = 32
"""Query batches up to this size are searched by single-threaded helpers (see `_search_small`),
unless the calling thread already runs faiss on one thread (a server limited to one thread
gains nothing from helpers, and waking them per request costs more than the search)."""

_HELPERS = max(1, faiss.omp_get_max_threads())
"""Helper threads for small searches: as many as faiss would use OpenMP threads."""


@functools.cache
def _helper_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(_HELPERS, "faiss-search", initializer=faiss.omp_set_num_threads, initargs=(1,))


def _search_small(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Search a few queries split over helper threads that each run faiss on one OpenMP thread.

    Faiss would otherwise open an OpenMP team for a search of a millisecond or two whose threads
    then spin, waiting for more work, and take the cores from whatever runs next (in skill
    search: the next query's embedding); a helper's one-thread search opens no team. The
    number of OpenMP threads is per thread, so no other code sees the change.
    """
    pool = _helper_pool()
    chunks = np.array_split(queries, min(len(queries), _HELPERS))
    results = [future.result() for future in [pool.submit(index.search, chunk, k) for chunk in chunks]]
    return np.vstack([r[0] for r in results]), np.vstack([r[1] for r in results])


def _with_ids(inner: faiss.Index) -> faiss.Index:
    """IVF types keep ids themselves (a hashtable direct map allows removal and reconstruction);
    every other type is wrapped in `IndexIDMap2`, whose removal assumes compacting storage."""
    ivf = faiss.try_extract_index_ivf(inner)
    if ivf is None:
        return faiss.IndexIDMap2(inner)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    return inner


@register_index(KIND)
class FaissVectorIndex(VectorIndex):
    """Inner-product faiss index built by `faiss.index_factory`.

    Args:
        dim: vector width.
        factory: a faiss factory string such as ``"Flat"``, ``"IVF64,Flat"`` or ``"HNSW32"``.
        search_params: faiss parameters set after building or loading, e.g. ``{"nprobe": 8}``.
    """

    def __init__(self, dim: int, factory: str = "Flat", search_params: Mapping[str, float] | None = None) -> None:
        self.dim = dim
        self.factory = factory
        self.search_params = dict(search_params or {})
        inner = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
        self._removable = not isinstance(faiss.downcast_index(inner), _NO_REMOVE)
        self._index = _with_ids(inner)
        self._to_int: dict[str, int] = {}
        self._to_str: dict[int, str] = {}
        self._tombstones: set[int] = set()
        self._next = 0
        self._apply_params()

    def _apply_params(self) -> None:
        space = faiss.ParameterSpace()
        for name, value in self.search_params.items():
            space.set_index_parameter(self._index, name, value)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        array = self._check(ids, vectors)
        self.remove([i for i in ids if i in self._to_int])
        if not self._index.is_trained:
            self._train(array)
        numbers = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self._index.add_with_ids(array, numbers)
        for item, number in zip(ids, numbers.tolist(), strict=True):
            self._to_int[item] = number
            self._to_str[number] = item
        self._next += len(ids)

    def _train(self, array: np.ndarray) -> None:
        logger.info("training faiss %s on %d vectors", self.factory, array.shape[0])
        try:
            self._index.train(array)
        except RuntimeError as exc:
            raise InputError(f"faiss {self.factory!r} could not train on {array.shape[0]} vectors: {exc}") from None

    def remove(self, ids: Sequence[str]) -> int:
        numbers = [self._to_int.pop(i) for i in ids if i in self._to_int]
        if not numbers:
            return 0
        for number in numbers:
            del self._to_str[number]
        if self._removable:
            self._index.remove_ids(np.asarray(numbers, dtype=np.int64))
        else:
            self._tombstones.update(numbers)
        return len(numbers)

    def search(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        q = np.ascontiguousarray(np.asarray(queries, dtype=np.float32).reshape(-1, self.dim))
        if not self._to_int or k <= 0:
            return [[] for _ in range(q.shape[0])]
        fetch = min(k + len(self._tombstones), self._index.ntotal)
        if q.shape[0] <= SMALL_SEARCH and faiss.omp_get_max_threads() > 1:
            scores, numbers = _search_small(self._index, q, fetch)
        else:
            scores, numbers = self._index.search(q, fetch)
        return [self._hits(row_s, row_n, k) for row_s, row_n in zip(scores, numbers, strict=True)]

    def _hits(self, scores: np.ndarray, numbers: np.ndarray, k: int) -> list[Hit]:
        hits = [Hit(self._to_str[n], float(s)) for s, n in zip(scores.tolist(), numbers.tolist(), strict=True) if n in self._to_str]
        return hits[:k]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Rows rebuilt by faiss (exact for flat storage; IVF types need a direct map)."""
        try:
            rows = [self._index.reconstruct(self._to_int[i]) for i in ids]
        except RuntimeError as exc:
            raise InputError(f"faiss {self.factory!r} cannot return stored vectors: {exc}") from None
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def ids(self) -> list[str]:
        return list(self._to_int)

    def __len__(self) -> int:
        return len(self._to_int)

    def __contains__(self, item: object) -> bool:
        return item in self._to_int

    def save(self, path: Path) -> None:
        write_meta(path, KIND, dim=self.dim, factory=self.factory, search_params=self.search_params)
        faiss.write_index(self._index, str(path / "index.faiss"))
        state = {"ids": self._to_int, "tombstones": sorted(self._tombstones), "next": self._next}
        (path / "ids.json").write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        meta = read_meta(path, KIND)
        index = cls(int(meta["dim"]), meta["factory"], meta.get("search_params"))
        try:
            index._index = faiss.read_index(str(path / "index.faiss"))
        except RuntimeError as exc:
            raise InputError(f"unreadable faiss index: {exc}", source=str(path / "index.faiss")) from None
        state = json.loads((path / "ids.json").read_text(encoding="utf-8"))
        index._to_int = {str(k): int(v) for k, v in state["ids"].items()}
        index._to_str = {v: k for k, v in index._to_int.items()}
        index._tombstones = set(state["tombstones"])
        index._next = int(state["next"])
        index._apply_params()
        return index
