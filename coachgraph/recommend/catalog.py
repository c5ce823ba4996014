"""The catalogue of agents and tools a recommender can propose, with cached text vectors.

Descriptions come from the stored pools; agents and tools seen in traces but in no pool are
described by their name alone. Vectors are embedded once and cached in an ``.npy`` file keyed
by a hash of every item text and the embedder's name, so a query never re-embeds the pool.
Lexical scores use BM25 weights over the same texts (`retrieval.bm25.bm25_weights`), a sparse
item-by-term matrix, so that any subset of candidates (an allowed set) is scored with one sparse
product. Dense scores are exact cosine similarities over the feasible candidates: retrieval
always scores a known subset (constraints come first), which a matrix product over its rows
serves faster than an approximate index over the whole catalogue.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.schema import CallTree, PoolEntry
from coachgraph.recommend.progress import EMBED_ITEMS, Progress, report
from coachgraph.retrieval.bm25 import bm25_weights
from coachgraph.retrieval.dense import normalize
from coachgraph.retrieval.text import tokenize

__all__ = ["Catalog", "CatalogItem", "catalog_from_store"]

ROWS_CACHE = 16
"""Candidate lists whose catalogue rows are remembered (a served catalogue repeats one list)."""
ITEM_TEXT_CHARS = 600
"""Characters of an item's name and description that are embedded and indexed."""


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One agent or tool that can be recommended."""

    name: str
    """Its unique name (what a decision chooses)."""
    kind: str
    """``agent``, ``tool`` or ``skill``."""
    description: str = ""
    """What it does; may be empty."""

    @property
    def text(self) -> str:
        """The text embedded and indexed for it."""
        words = " ".join(tokenize(self.name))
        return f"{self.name} ({words}): {self.description}"[:ITEM_TEXT_CHARS]


class Catalog:
    """Items with normalised text vectors and a BM25 matrix over their texts.

    Args:
        items: the catalogue (unique names).
        embeddings: the embedder for items and queries.
        cache_dir: where item vectors are cached (`None`: not cached).
        embedder_name: part of the cache key, so that two embedders never share a file.
        query_cache: how many recent query vectors are kept.
        vectors: item vectors already computed (a loaded recommender); skips embedding.
        progress: hears when the items are embedded (not when their vectors come from the cache).
    """

    def __init__(self, items: Sequence[CatalogItem], embeddings: Embeddings, cache_dir: Path | None = None,
                 embedder_name: str = "embeddings", query_cache: int = 4096,
                 vectors: np.ndarray | None = None, progress: Progress | None = None) -> None:
        self.items = list(items)
        self.index = {item.name: i for i, item in enumerate(self.items)}
        self.embeddings = embeddings
        if vectors is None:
            vectors = self._item_vectors(cache_dir, embedder_name, progress)
        self.vectors = vectors  # (n_items, dim)
        self._vocab, self._weights = bm25_weights([Counter(tokenize(item.text)) for item in self.items])
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._names: dict[str | None, tuple[str, ...]] = {}
        self._words: dict[str, frozenset[str]] = {}
        self._rows: dict[tuple[str, ...], np.ndarray] = {}
        self._tokens: dict[str, list[str]] = {}
        self._query_cache = query_cache

    def __len__(self) -> int:
        return len(self.items)

    def names(self, kind: str | None = None) -> list[str]:
        """Item names, of one kind when given (a fresh list each call)."""
        if kind not in self._names:
            self._names[kind] = tuple(item.name for item in self.items if kind is None or item.kind == kind)
        return list(self._names[kind])

    def words(self, name: str) -> frozenset[str]:
        """The tokens of an item name (cached: names are matched against every query)."""
        if name not in self._words:
            self._words[name] = frozenset(tokenize(name))
        return self._words[name]

    def positions(self, names: Sequence[str]) -> np.ndarray:
        """Row of each name in the catalogue (-1 for names it lacks); recent lists are cached."""
        key = tuple(names)
        rows = self._rows.get(key)
        if rows is None:
            rows = np.array([self.index.get(name, -1) for name in names], dtype=np.int64)
            if len(self._rows) >= ROWS_CACHE:
                self._rows.pop(next(iter(self._rows)))
            self._rows[key] = rows
        return rows

    def _item_vectors(self, cache_dir: Path | None, embedder_name: str, progress: Progress | None) -> np.ndarray:
        texts = [item.text for item in self.items]
        key = hashlib.sha256("\x1f".join([embedder_name, *texts]).encode("utf-8")).hexdigest()[:20]
        path = cache_dir / f"catalog-{key}.npy" if cache_dir is not None else None
        if path is not None and path.is_file():
            return np.load(path)
        report(progress, EMBED_ITEMS, 0, len(texts))  # one call: its batches are cut by text length
        vectors = normalize(self.embeddings.embed_documents(texts)) if texts else np.zeros((0, 1), np.float32)
        report(progress, EMBED_ITEMS, len(texts), len(texts))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors of query texts, ``(len(texts), dim)``; recent queries are cached."""
        missing = sorted({t for t in texts if t not in self._queries})
        if missing:
            for text, vector in zip(missing, normalize(self.embeddings.embed_documents(missing)), strict=True):
                self._queries[text] = vector
        rows = [self._queries[t] for t in texts]
        for text in texts:
            self._queries.move_to_end(text)
        while len(self._queries) > self._query_cache:
            self._queries.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, self.vectors.shape[1]), np.float32)

    def save_queries(self, path: Path) -> None:
        """Write the cached query vectors to `path` (``.npy``) and their texts beside it (``.json``)."""
        vectors = np.stack(list(self._queries.values())) if self._queries else np.zeros((0, self.vectors.shape[1]), np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        path.with_suffix(".json").write_text(json.dumps(list(self._queries)), encoding="utf-8")

    def load_queries(self, path: Path) -> None:
        """Read query vectors written by `save_queries` (a missing file is no error)."""
        texts_path = path.with_suffix(".json")
        if not path.is_file() or not texts_path.is_file():
            return
        texts = json.loads(texts_path.read_text(encoding="utf-8"))
        self.reserve_queries(len(self._queries) + len(texts))
        for text, vector in zip(texts, np.load(path), strict=True):
            self._queries[str(text)] = vector

    def reserve_queries(self, n: int) -> None:
        """Keep at least `n` recent query vectors (a bulk featurisation embeds each text once)."""
        self._query_cache = max(self._query_cache, n + 16)

    def dense(self, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine similarity of query vectors ``(q, dim)`` to the items at `rows`: ``(n, q)``, 0 for rows of -1."""
        if len(rows) * 4 < len(self.items):
            sims = self.vectors[np.maximum(rows, 0)] @ queries.T  # few rows: gather them first
        else:
            sims = (self.vectors @ queries.T)[np.maximum(rows, 0)]  # many rows: one pass, no copy
        return np.where(rows[:, None] >= 0, sims, 0.0).astype(np.float32)

    def tokens(self, text: str) -> list[str]:
        """`tokenize(text)`, remembered for recent texts (a query's task is matched several times)."""
        found = self._tokens.get(text)
        if found is None:
            found = self._tokens[text] = tokenize(text)
            if len(self._tokens) > self._query_cache:
                self._tokens.pop(next(iter(self._tokens)))
        return found

    def lexical(self, query: str, rows: np.ndarray) -> np.ndarray:
        """BM25 score of `query` for the items at `rows`; 0 for rows of -1."""
        terms = [self._vocab[t] for t in self.tokens(query) if t in self._vocab]
        if not terms or len(rows) == 0:
            return np.zeros(len(rows), np.float32)
        counts = Counter(terms)
        q = np.zeros(len(self._vocab), np.float32)
        q[list(counts)] = list(counts.values())
        if len(rows) * 4 < len(self.items):
            scores = np.asarray(self._weights[np.maximum(rows, 0)] @ q).ravel()  # (n,)
        else:
            scores = np.asarray(self._weights @ q).ravel()[np.maximum(rows, 0)]  # (n,) no row copy
        return np.where(rows >= 0, scores, 0.0).astype(np.float32)


def _entries(store: CallTreeStore, trees: Iterable[CallTree]) -> dict[str, CatalogItem]:
    """Pool entries first (they carry descriptions), then every target seen in a trace, handoff
    targets among them."""
    found: dict[str, CatalogItem] = {}

    def add(entry: PoolEntry) -> None:
        old = found.get(entry.name)
        if old is None or (not old.description and entry.description):
            found[entry.name] = CatalogItem(entry.name, entry.kind, entry.description)

    for name in store.pools():
        pool = store.get_pool(name)
        for entry in pool.entries if pool else ():
            add(entry)
    for tree in trees:
        for entry in tree.pool:
            add(entry)
        for node in tree.nodes:
            if node.kind in ("agent", "tool", "skill") and node.target and node.target not in found:
                found[node.target] = CatalogItem(node.target, node.kind)
            handed = node.attributes.get("to_agent") if node.kind == "handoff" else None
            if isinstance(handed, str) and handed and handed not in found:
                found[handed] = CatalogItem(handed, "agent")  # a sub-team some clients record no node for
    return found


def catalog_from_store(store: CallTreeStore, trees: Iterable[CallTree], embeddings: Embeddings,
                       cache_dir: Path | None = None, embedder_name: str = "embeddings",
                       progress: Progress | None = None) -> Catalog:
    """The catalogue of a store: its pools plus every agent/tool its traces call, sorted by name."""
    found = _entries(store, trees)
    return Catalog([found[name] for name in sorted(found)], embeddings, cache_dir, embedder_name, progress=progress)
