"""Seal-Tools as a skill library (real data; BM25 only, so it stays fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.retrieval import BM25Index, ndcg_at_k
from coachgraph.skills.benchmark import load_queries, load_tools
from coachgraph.skills.index import index_text


@pytest.mark.corpora
def test_seal_tools_library_and_labels(corpora_dir: Path) -> None:
    folder = corpora_dir / "seal_tools"
    skills = load_tools(folder)
    assert len(skills) == 4076 and len({s.name for s in skills}) == 4076
    queries, gold = load_queries(folder, "dev")
    assert len(queries) == 700 and set().union(*gold) <= {s.name for s in skills}
    bm25 = BM25Index()
    bm25.add([s.name for s in skills], [index_text(s) for s in skills])
    scores = [ndcg_at_k([h.id for h in bm25.search(q, 5)], g, 5) for q, g in zip(queries[:100], gold[:100], strict=True)]
    assert sum(scores) / len(scores) > 0.7
