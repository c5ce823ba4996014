"""Hybrid retrieval: several named retrievers, fused, then an optional re-ranking hook.

Each retriever returns its top `depth` candidates; the fusion merges them; the re-ranker (if
any) re-orders the fused list before it is cut to `k`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Self

from coachgraph.errors import InputError
from coachgraph.retrieval.base import Hit, TextRetriever, read_meta, write_meta
from coachgraph.retrieval.fusion import Fusion, Rankings, ReciprocalRankFusion, fusion_from_dict
from coachgraph.retrieval.rerank import Reranker

__all__ = ["HybridRetriever"]

KIND = "hybrid"


class HybridRetriever(TextRetriever):
    """Runs every retriever on each query and fuses their rankings.

    Args:
        retrievers: retrievers by name (the names the fusion's weights and features refer to).
        fusion: how rankings merge; reciprocal rank fusion by default.
        reranker: an optional hook applied to the fused list.
        depth: candidates taken from each retriever before fusing.
    """

    def __init__(self, retrievers: Mapping[str, TextRetriever], fusion: Fusion | None = None, reranker: Reranker | None = None, depth: int = 50) -> None:
        if not retrievers:
            raise InputError("a hybrid retriever needs at least one retriever")
        self.retrievers = dict(retrievers)
        self.fusion = fusion or ReciprocalRankFusion()
        self.reranker = reranker
        self.depth = depth

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        for retriever in self.retrievers.values():
            retriever.add(ids, texts)

    def remove(self, ids: Sequence[str]) -> int:
        return max(retriever.remove(ids) for retriever in self.retrievers.values())

    def ids(self) -> list[str]:
        return next(iter(self.retrievers.values())).ids()

    def __len__(self) -> int:
        return len(next(iter(self.retrievers.values())))

    def rankings(self, query: str) -> dict[str, list[Hit]]:
        """Each retriever's own top `depth` hits for `query`."""
        return {name: r.search(query, self.depth) for name, r in self.retrievers.items()}

    def rankings_many(self, queries: Sequence[str]) -> list[Rankings]:
        """`rankings` for many queries, letting each retriever batch (one embedding call)."""
        per_source = {name: r.search_many(queries, self.depth) for name, r in self.retrievers.items()}
        return [{name: lists[n] for name, lists in per_source.items()} for n in range(len(queries))]

    def fuse(self, query: str, rankings: Rankings, k: int) -> list[Hit]:
        """Fuse precomputed `rankings`, re-rank, and cut to `k`."""
        fused = self.fusion.fuse(rankings, max(k, self.depth) if self.reranker else k)
        return (self.reranker(query, fused) if self.reranker else fused)[:k]

    def search(self, query: str, k: int) -> list[Hit]:
        return self.fuse(query, self.rankings(query), k)

    def search_many(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        return [self.fuse(q, r, k) for q, r in zip(queries, self.rankings_many(queries), strict=True)]

    def save(self, path: Path) -> None:
        """Write each retriever into a subfolder named after it, and the fusion parameters."""
        write_meta(path, KIND, retrievers=sorted(self.retrievers), depth=self.depth)
        (path / "fusion.json").write_text(json.dumps(self.fusion.to_dict()), encoding="utf-8")
        for name, retriever in self.retrievers.items():
            retriever.save(path / name)

    @classmethod
    def load(cls, path: Path, loaders: Mapping[str, Callable[[Path], TextRetriever]], reranker: Reranker | None = None) -> Self:
        """Read a hybrid written by `save`; `loaders` reads each named retriever's subfolder."""
        meta = read_meta(path, KIND)
        missing = [n for n in meta["retrievers"] if n not in loaders]
        if missing:
            raise InputError(f"no loader for retrievers {missing}", source=str(path))
        retrievers = {name: loaders[name](path / name) for name in meta["retrievers"]}
        fusion = fusion_from_dict(json.loads((path / "fusion.json").read_text(encoding="utf-8")))
        return cls(retrievers, fusion, reranker, int(meta["depth"]))
