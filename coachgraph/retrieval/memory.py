"""Brute-force numpy vector index: the default for small libraries and the test double."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import numpy as np

from coachgraph.errors import InputError
from coachgraph.retrieval.base import Hit, VectorIndex, read_meta, write_meta
from coachgraph.retrieval.registry import register_index

__all__ = ["InMemoryVectorIndex", "top_k"]

KIND = "memory"


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` largest `scores`, best first (ties broken by position)."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
    return part[np.lexsort((part, -scores[part]))]


@register_index(KIND)
class InMemoryVectorIndex(VectorIndex):
    """Rows in one float32 matrix; exact inner-product search with a matrix product."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._matrix = np.zeros((0, dim), dtype=np.float32)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        array = self._check(ids, vectors)
        self.remove([i for i in ids if i in self._pos])
        self._matrix = np.vstack([self._matrix, array])
        for item in ids:
            self._pos[item] = len(self._ids)
            self._ids.append(item)

    def remove(self, ids: Sequence[str]) -> int:
        drop = {self._pos[i] for i in ids if i in self._pos}
        if not drop:
            return 0
        keep = [p for p in range(len(self._ids)) if p not in drop]
        self._matrix = self._matrix[keep]
        self._ids = [self._ids[p] for p in keep]
        self._pos = {item: p for p, item in enumerate(self._ids)}
        return len(drop)

    def search(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        q = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        if not self._ids:
            return [[] for _ in range(q.shape[0])]
        scores = q @ self._matrix.T
        return [[Hit(self._ids[j], float(row[j])) for j in top_k(row, k)] for row in scores]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored rows for `ids`, in order; raise `KeyError` for an unknown id."""
        return self._matrix[[self._pos[i] for i in ids]]

    def ids(self) -> list[str]:
        return list(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item: object) -> bool:
        return item in self._pos

    def save(self, path: Path) -> None:
        write_meta(path, KIND, dim=self.dim)
        np.save(path / "vectors.npy", self._matrix)
        (path / "ids.json").write_text(json.dumps(self._ids), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        meta = read_meta(path, KIND)
        index = cls(int(meta["dim"]))
        ids = json.loads((path / "ids.json").read_text(encoding="utf-8"))
        matrix = np.load(path / "vectors.npy")
        if matrix.shape != (len(ids), index.dim):
            raise InputError(f"vectors shape {matrix.shape} does not match {len(ids)} ids", source=str(path))
        index.add(ids, matrix)
        return index
