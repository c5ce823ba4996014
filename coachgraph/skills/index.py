"""The skill library's retrieval index: BM25 and (with an embedder) dense, fused.

The index is derived data: when the persisted copy cannot be read (another embedder, an older
layout) it is rebuilt from the skill folders, which are the source of truth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from langchain_core.embeddings import Embeddings

from coachgraph.errors import CoachgraphError
from coachgraph.retrieval import (
    BM25Index,
    CalibratedScoreFusion,
    DenseRetriever,
    HybridRetriever,
    TextRetriever,
)
from coachgraph.skills.model import Skill

__all__ = ["build_index", "index_text", "open_index"]

logger = logging.getLogger(__name__)


def index_text(skill: Skill) -> str:
    """What retrieval sees of a skill: its name as words, then its description."""
    return f"{skill.name.replace('-', ' ')}: {skill.description}"


def build_index(embeddings: Embeddings | None, index_type: str, index_options: Mapping[str, object]) -> HybridRetriever:
    """An empty hybrid index: BM25, plus dense when `embeddings` is given, calibrated fusion."""
    retrievers: dict[str, TextRetriever] = {"bm25": BM25Index()}
    if embeddings is not None:
        retrievers["dense"] = DenseRetriever(embeddings, index_type=index_type, index_options=index_options)
    return HybridRetriever(retrievers, CalibratedScoreFusion(sources=sorted(retrievers)))


def open_index(path: Path, embeddings: Embeddings | None, index_type: str, index_options: Mapping[str, object]) -> HybridRetriever:
    """The index saved at `path` if it matches the embedder setting, else a fresh one."""
    if not (path / "meta.json").is_file():
        return build_index(embeddings, index_type, index_options)
    loaders: dict[str, Callable[[Path], TextRetriever]] = {"bm25": BM25Index.load}
    if embeddings is not None:
        loaders["dense"] = lambda p: DenseRetriever.load(p, embeddings)
    try:
        loaded = HybridRetriever.load(path, loaders)
    except (CoachgraphError, OSError, ValueError) as exc:
        logger.warning("rebuilding the skill index at %s: %s", path, exc)
        return build_index(embeddings, index_type, index_options)
    if set(loaded.retrievers) != set(loaders):
        logger.info("retrievers changed; rebuilding the skill index at %s", path)
        return build_index(embeddings, index_type, index_options)
    return loaded
