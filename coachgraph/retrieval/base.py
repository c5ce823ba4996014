"""Interfaces shared by every index: ranked hits keyed by string ids.

`VectorIndex` stores vectors (dense search); `TextRetriever` answers text queries (BM25, a dense
retriever wrapping an embedder and a vector index, or a hybrid of several). Both are ABCs with a
few abstract members and documented defaults, so a new backend only writes what differs.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, Self

import numpy as np

from coachgraph.errors import InputError

__all__ = ["SCHEMA_VERSION", "Hit", "TextRetriever", "VectorIndex", "read_meta", "write_meta"]

SCHEMA_VERSION = 1
"""Version of the on-disk layout written by every index's `save`."""


class Hit(NamedTuple):
    """One search result: the item's id and its score (higher is better)."""

    id: str
    score: float


def write_meta(path: Path, kind: str, **fields: Any) -> None:
    """Write ``meta.json`` (kind and schema version first) into the folder `path`."""
    path.mkdir(parents=True, exist_ok=True)
    meta = {"schema_version": SCHEMA_VERSION, "kind": kind, **fields}
    (path / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def read_meta(path: Path, kind: str) -> dict[str, Any]:
    """Read ``meta.json`` from `path`, rejecting another kind or an unknown schema version."""
    file = path / "meta.json"
    if not file.is_file():
        raise InputError("no saved index here (meta.json missing)", source=str(path))
    meta = json.loads(file.read_text(encoding="utf-8"))
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise InputError(f"unsupported schema_version {meta.get('schema_version')!r}", source=str(file))
    if meta.get("kind") != kind:
        raise InputError(f"index kind is {meta.get('kind')!r}, expected {kind!r}", source=str(file))
    return meta


class VectorIndex(ABC):
    """A set of (string id, vector) pairs searched by inner product.

    Vectors are float32 rows of width `dim`. Callers that want cosine similarity normalise
    their vectors first (the dense retriever does).
    """

    dim: int

    @abstractmethod
    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add `vectors` (an ``(n, dim)`` array) under `ids`; an id already present is replaced."""

    @abstractmethod
    def remove(self, ids: Sequence[str]) -> int:
        """Remove `ids` (unknown ids are ignored) and return how many were removed."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        """Return, for each row of `queries` (``(nq, dim)``), up to `k` hits, best first."""

    @abstractmethod
    def ids(self) -> list[str]:
        """Every stored id, in insertion order."""

    @abstractmethod
    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored ``(len(ids), dim)`` rows for `ids`; raise `KeyError` for an unknown id."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the index into the folder `path` (created if missing)."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path) -> Self:
        """Read an index written by `save`; raise `InputError` naming the file if unreadable."""

    def __len__(self) -> int:
        """By default counts `ids()`; override where the backend knows its size cheaply."""
        return len(self.ids())

    def __contains__(self, item: object) -> bool:
        """By default scans `ids()`; override with a set or dict lookup."""
        return item in self.ids()

    def search_one(self, query: np.ndarray, k: int) -> list[Hit]:
        """By default wraps `search` for a single ``(dim,)`` query."""
        return self.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)[0]

    def _check(self, ids: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        array = np.ascontiguousarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise InputError(f"vectors must have shape (n, {self.dim}), got {array.shape}")
        if len(ids) != array.shape[0]:
            raise InputError(f"{len(ids)} ids for {array.shape[0]} vectors")
        if len(set(ids)) != len(ids):
            raise InputError("ids in one add must be unique")
        return array


class TextRetriever(ABC):
    """Texts stored under string ids, searched by a text query."""

    @abstractmethod
    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Index `texts` under `ids`; an id already present is replaced."""

    @abstractmethod
    def remove(self, ids: Sequence[str]) -> int:
        """Remove `ids` (unknown ids are ignored) and return how many were removed."""

    @abstractmethod
    def search(self, query: str, k: int) -> list[Hit]:
        """Return up to `k` hits for `query`, best first; an empty index returns ``[]``."""

    @abstractmethod
    def ids(self) -> list[str]:
        """Every stored id."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the retriever into the folder `path`."""

    def __len__(self) -> int:
        """By default counts `ids()`."""
        return len(self.ids())

    def search_many(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        """By default calls `search` per query; override to batch (e.g. one embedding call)."""
        return [self.search(query, k) for query in queries]
