"""Okapi BM25 over a sparse matrix of precomputed term weights.

`bm25_weights` computes the weights of a document collection once, as a sparse
document-by-term matrix; `BM25Index` serves text queries from it, and the recommender's
catalogue scores its candidates with it. Adding or removing documents only updates term counts;
the weight matrix is rebuilt lazily on the next search, so a burst of changes costs one rebuild.
A query then reads one CSR row per query term, which keeps search well under a millisecond for
ten thousand documents.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
from scipy import sparse

from coachgraph.retrieval.base import Hit, TextRetriever, read_meta, write_meta
from coachgraph.retrieval.memory import top_k
from coachgraph.retrieval.text import tokenize

__all__ = ["BM25Index", "BM25Params", "bm25_weights"]

KIND = "bm25"


@dataclass(frozen=True, slots=True)
class BM25Params:
    """BM25 constants (Robertson and Zaragoza's defaults)."""

    k1: float = 1.5
    """Term-frequency saturation: higher lets repeated words count for longer."""
    b: float = 0.75
    """Length normalisation: 0 ignores document length, 1 normalises fully."""


def bm25_weights(counts: Sequence[Mapping[str, int]],
                 params: BM25Params | None = None) -> tuple[dict[str, int], sparse.csr_matrix]:
    """The BM25 weight of every term in every document, from each document's term counts.

    Returns the vocabulary (term → column, in order of first appearance) and an
    ``(n_docs, n_terms)`` float32 CSR matrix; a query's score for a document is the sum of the
    weights of the query's terms in that document's row.

    >>> vocab, w = bm25_weights([{"hotel": 2, "room": 1}, {"flight": 1}])
    >>> sorted(vocab), w.shape, bool(w[0, vocab["hotel"]] > w[0, vocab["room"]] > 0)
    (['flight', 'hotel', 'room'], (2, 3), True)
    """
    params = params or BM25Params()
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    tfs: list[float] = []
    lengths = np.zeros(len(counts), np.float32)
    for row, doc in enumerate(counts):
        lengths[row] = sum(doc.values())
        for term, tf in doc.items():
            rows.append(row)
            cols.append(vocab.setdefault(term, len(vocab)))
            tfs.append(tf)
    data = _term_weights(np.array(rows, np.int64), np.array(cols, np.int64), np.array(tfs, np.float32),
                         lengths, len(vocab), params)
    return vocab, sparse.csr_matrix((data, (rows, cols)), shape=(len(counts), len(vocab)), dtype=np.float32)


def _term_weights(rows: np.ndarray, cols: np.ndarray, tf: np.ndarray, lengths: np.ndarray, n_terms: int,
                  params: BM25Params) -> np.ndarray:
    """Weights of the (document `rows`, term `cols`) entries with term frequencies `tf`."""
    if tf.size == 0:
        return tf
    k1, b = params.k1, params.b
    df = np.bincount(cols, minlength=n_terms).astype(np.float32)
    idf = np.log1p((len(lengths) - df + 0.5) / (df + 0.5))
    norm = k1 * (1.0 - b + b * lengths[rows] / max(float(lengths.mean()), 1e-9))
    return idf[cols] * tf * (k1 + 1.0) / (tf + norm)


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
        vocab, weights = bm25_weights([self._counts[i] for i in ids], self.params)
        return _Built(vocab, ids, weights.T.tocsr())

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

