"""Retrieval keyed by string ids: vector indexes, BM25, fusion, re-ranking, hybrid search."""

from __future__ import annotations

from coachgraph.retrieval.base import Hit, TextRetriever, VectorIndex
from coachgraph.retrieval.bm25 import BM25Index, BM25Params
from coachgraph.retrieval.dense import DenseRetriever
from coachgraph.retrieval.faiss_index import FaissVectorIndex
from coachgraph.retrieval.fusion import (
    FUSIONS,
    CalibratedScoreFusion,
    Fusion,
    ReciprocalRankFusion,
    create_fusion,
)
from coachgraph.retrieval.hybrid import HybridRetriever
from coachgraph.retrieval.memory import InMemoryVectorIndex
from coachgraph.retrieval.metrics import ndcg_at_k, recall_at_k
from coachgraph.retrieval.registry import INDEXES, create_index, load_index, register_index
from coachgraph.retrieval.rerank import PriorReranker, Reranker

__all__ = (
    "FUSIONS",
    "INDEXES",
    "BM25Index",
    "BM25Params",
    "CalibratedScoreFusion",
    "DenseRetriever",
    "FaissVectorIndex",
    "Fusion",
    "Hit",
    "HybridRetriever",
    "InMemoryVectorIndex",
    "PriorReranker",
    "ReciprocalRankFusion",
    "Reranker",
    "TextRetriever",
    "VectorIndex",
    "create_fusion",
    "create_index",
    "load_index",
    "ndcg_at_k",
    "recall_at_k",
    "register_index",
)
