"""Dense text retrieval: a langchain-core `Embeddings` model in front of a `VectorIndex`.

Each stored text keeps a content hash, so `add` re-embeds only texts that changed; a skill
library can call it on every revision and pay for one embedding.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from langchain_core.embeddings import Embeddings

from coachgraph.retrieval.base import Hit, TextRetriever, VectorIndex, read_meta, write_meta
from coachgraph.retrieval.registry import create_index, load_index
from coachgraph.retrieval.text import split_clauses

__all__ = ["DenseRetriever", "normalize"]

logger = logging.getLogger(__name__)

KIND = "dense"


def normalize(vectors: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.where(norms == 0, 1.0, norms)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _best_of(lists: Sequence[Sequence[Hit]], k: int) -> list[Hit]:
    best: dict[str, float] = {}
    for hits in lists:
        for hit in hits:
            best[hit.id] = max(best.get(hit.id, -1.0), hit.score)
    return [Hit(i, s) for i, s in sorted(best.items(), key=lambda x: (-x[1], x[0]))[:k]]


class DenseRetriever(TextRetriever):
    """Cosine search over embedded texts.

    Args:
        embeddings: any langchain-core `Embeddings`.
        index: the vector store; by default an index of type `index_type` sized on first use.
        index_type: a name from `INDEXES` used when `index` is not given.
        index_options: keyword options for that index type, e.g. ``{"factory": "HNSW32"}``.
        batch_size: texts per `embed_documents` call.
        aspects: embed each clause of a many-part query instead of the whole query, and keep,
            per id, the best score over the clauses (on Seal-Tools requests this finds as much
            as also embedding the whole query, for half the tokens).
        symmetric: the embedder treats queries and documents alike (MiniLM does), so many
            queries are embedded in one batched `embed_documents` call.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        index: VectorIndex | None = None,
        index_type: str = "memory",
        index_options: Mapping[str, Any] | None = None,
        batch_size: int = 256,
        aspects: bool = False,
        symmetric: bool = False,
    ) -> None:
        self.embeddings = embeddings
        self.index = index
        self.index_type = index_type
        self.index_options = dict(index_options or {})
        self.batch_size = batch_size
        self.aspects = aspects
        self.symmetric = symmetric
        self._digests: dict[str, str] = {}

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        fresh = [(i, t) for i, t in zip(ids, texts, strict=True) if self._digests.get(i) != _digest(t)]
        for start in range(0, len(fresh), self.batch_size):
            self._add_batch(fresh[start : start + self.batch_size])
        logger.debug("embedded %d of %d texts (others unchanged)", len(fresh), len(ids))

    def _add_batch(self, batch: list[tuple[str, str]]) -> None:
        vectors = normalize(self.embeddings.embed_documents([t for _, t in batch]))
        if self.index is None:
            self.index = create_index(self.index_type, vectors.shape[1], **self.index_options)
        self.index.add([i for i, _ in batch], vectors)
        self._digests.update((i, _digest(t)) for i, t in batch)

    def remove(self, ids: Sequence[str]) -> int:
        for item in ids:
            self._digests.pop(item, None)
        return self.index.remove(ids) if self.index is not None else 0

    def search(self, query: str, k: int) -> list[Hit]:
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        if self.index is None or not len(self.index):
            return [[] for _ in queries]
        parts = [split_clauses(q) if self.aspects else [q] for q in queries]
        flat = [p for group in parts for p in group]
        vectors = self.embeddings.embed_documents(flat) if self.symmetric else [self.embeddings.embed_query(p) for p in flat]
        lists = self.index.search(normalize(vectors), k)
        out, start = [], 0
        for group in parts:
            out.append(_best_of(lists[start : start + len(group)], k))
            start += len(group)
        return out

    def search_vector(self, vector: Sequence[float], k: int) -> list[Hit]:
        """Search with an already embedded query (normalised here)."""
        if self.index is None:
            return []
        return self.index.search(normalize([vector]), k)[0]

    def ids(self) -> list[str]:
        return list(self._digests)

    def __len__(self) -> int:
        return len(self._digests)

    def save(self, path: Path) -> None:
        write_meta(path, KIND, index_type=self.index_type, index_options=self.index_options, aspects=self.aspects, symmetric=self.symmetric)
        (path / "digests.json").write_text(json.dumps(self._digests), encoding="utf-8")
        if self.index is not None:
            self.index.save(path / "vectors")

    @classmethod
    def load(cls, path: Path, embeddings: Embeddings) -> Self:
        """Read a retriever written by `save`; the embedder must be the one it was built with."""
        meta = read_meta(path, KIND)
        index = load_index(path / "vectors") if (path / "vectors").is_dir() else None
        retriever = cls(embeddings, index, str(meta["index_type"]), meta.get("index_options"), aspects=bool(meta.get("aspects")), symmetric=bool(meta.get("symmetric")))
        retriever._digests = json.loads((path / "digests.json").read_text(encoding="utf-8"))
        return retriever
