"""Okapi BM25 over a sparse term-by-document matrix of precomputed weights.

Adding or removing documents only updates term counts; the weight matrix is rebuilt lazily on
the next search, so a burst of changes costs one rebuild. A query then reads one CSR row per
query term, which keeps search well under a millisecond for ten thousand documents.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
from scipy import sparse

from coachgraph.retrieval.base import Hit, TextRetriever, read_meta, write_meta
from coachgraph.retrieval.memory import top_k
from coachgraph.retrieval.text import tokenize

__all__ = ["BM25Index", "BM25Params"]

KIND = "bm25"


@dataclass(frozen=True, slots=True)
class BM25Params:
    """BM25 constants (Robertson and Zaragoza's defaults)."""

    k1: float = 1.5
    """Term-frequency saturation: higher lets repeated words count for longer."""
    b: float = 0.75
    """Length normalisation: 0 ignores document length, 1 normalises fully."""


@dataclass(slots=True)
class _Built:
    vocab: dict[str, int]
    ids: list[str]
    weights: sparse.csr_matrix  # (n_terms, n_docs)


class BM25Index(TextRetriever):
    """BM25 ranking keyed by string ids, with a pluggable tokenizer."""

    def __init__(self, params: BM25Params | None = None, tokenizer: Callable[[str], list[str]] = tokenize) -> None:
        self.params = params or BM25Params()
        self.tokenizer = tokenizer
        self._texts: dict[str, str] = {}
        self._counts: dict[str, Counter[str]] = {}
        self._built: _Built | None = None

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        for item, text in zip(ids, texts, strict=True):
            self._texts[item] = text
            self._counts[item] = Counter(self.tokenizer(text))
        self._built = None

    def remove(self, ids: Sequence[str]) -> int:
        gone = [i for i in ids if self._texts.pop(i, None) is not None]
        for item in gone:
            del self._counts[item]
        self._built = None if gone else self._built
        return len(gone)

    def ids(self) -> list[str]:
        return list(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def text(self, item: str) -> str:
        """The text indexed under `item`."""
        return self._texts[item]

    def search(self, query: str, k: int) -> list[Hit]:
        built = self._build()
        rows = sorted({built.vocab[t] for t in self.tokenizer(query) if t in built.vocab})
        if not rows or k <= 0:
            return []
        scores = np.zeros(len(built.ids), dtype=np.float32)
        w = built.weights
        for row in rows:
            lo, hi = w.indptr[row], w.indptr[row + 1]
            scores[w.indices[lo:hi]] += w.data[lo:hi]
        best = top_k(scores, k)
        return [Hit(built.ids[j], float(scores[j])) for j in best if scores[j] > 0]

    def _build(self) -> _Built:
        if self._built is None:
            self._built = self._weights()
        return self._built

    def _weights(self) -> _Built:
        ids = list(self._counts)
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        for col, item in enumerate(ids):
            for term, tf in self._counts[item].items():
                rows.append(vocab.setdefault(term, len(vocab)))
                cols.append(col)
                tfs.append(tf)
        lengths = np.array([sum(self._counts[i].values()) for i in ids], dtype=np.float32)
        data = self._term_weights(np.array(rows), np.array(cols), np.array(tfs, dtype=np.float32), lengths, len(vocab))
        weights = sparse.csr_matrix((data, (rows, cols)), shape=(len(vocab), len(ids)), dtype=np.float32)
        return _Built(vocab, ids, weights)

    def _term_weights(self, rows: np.ndarray, cols: np.ndarray, tf: np.ndarray, lengths: np.ndarray, n_terms: int) -> np.ndarray:
        if tf.size == 0:
            return tf
        k1, b = self.params.k1, self.params.b
        n_docs = lengths.shape[0]
        df = np.bincount(rows, minlength=n_terms).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        norm = k1 * (1.0 - b + b * lengths[cols] / max(float(lengths.mean()), 1e-9))
        return idf[rows] * tf * (k1 + 1.0) / (tf + norm)

    def save(self, path: Path) -> None:
        write_meta(path, KIND, k1=self.params.k1, b=self.params.b)
        (path / "texts.json").write_text(json.dumps(self._texts), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, tokenizer: Callable[[str], list[str]] = tokenize) -> Self:
        """Read an index written by `save`; the tokenizer is code, so the caller passes it again."""
        meta = read_meta(path, KIND)
        index = cls(BM25Params(k1=float(meta["k1"]), b=float(meta["b"])), tokenizer)
        texts = json.loads((path / "texts.json").read_text(encoding="utf-8"))
        index.add(list(texts), list(texts.values()))
        return index

