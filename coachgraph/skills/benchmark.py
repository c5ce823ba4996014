"""Retrieval benchmark on Seal-Tools: its 4,076 tools as a skill library, its queries as labels.

Fusion is fitted on the dev split and reported on the two test splits (in-domain and
out-of-domain), so no test label tunes anything. Latency is measured at 10,000 skills: the real
tools plus synthetic ones (recombined descriptions, perturbed real vectors, seeded).
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from coachgraph.errors import InputError
from coachgraph.retrieval import (
    BM25Index,
    CalibratedScoreFusion,
    DenseRetriever,
    Fusion,
    Hit,
    HybridRetriever,
    ReciprocalRankFusion,
    create_index,
    ndcg_at_k,
    recall_at_k,
)
from coachgraph.retrieval.dense import normalize
from coachgraph.retrieval.fusion import Rankings
from coachgraph.skills.index import index_text
from coachgraph.skills.library import SKILL_VECTORS, SkillLibrary
from coachgraph.skills.model import Skill

__all__ = ["SPLITS", "load_queries", "load_tools", "run_benchmark"]

logger = logging.getLogger(__name__)

SPLITS = {"dev": "dev.jsonl", "test_in": "test_in_domain.jsonl", "test_out": "test_out_domain.jsonl"}
K = 5


def tool_skill_name(api: str) -> str:
    """``getWeatherForecast`` -> ``get-weather-forecast``."""
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", api).lower()).strip("-")[:64]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputError("Seal-Tools file not found", source=str(path))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_tools(folder: Path) -> list[Skill]:
    """One skill per Seal-Tools tool: description as is, parameters listed in the body."""
    skills = []
    for row in _read_jsonl(folder / "tool.jsonl"):
        params = "\n".join(f"- `{p}`: {v.get('description', '')}" for p, v in row.get("parameters", {}).items())
        body = f"# {row['api_name']}\n\nField: {row.get('field', '')}\n\n## Parameters\n{params}"
        skill = Skill(name=tool_skill_name(row["api_name"]), description=row["api_description"][:1024], body=body)
        skills.append(skill.with_meta(kind="agent-skill"))
    return skills


def load_queries(folder: Path, split: str) -> tuple[list[str], list[set[str]]]:
    """Queries of a split and, for each, the skill names of its gold tools."""
    rows = _read_jsonl(folder / SPLITS[split])
    return [r["query"] for r in rows], [{tool_skill_name(c["api"]) for c in r["calling"]} for r in rows]


def _scores(rankings: Sequence[Sequence[Hit]], gold: Sequence[set[str]]) -> dict[str, float]:
    ranked = [[h.id for h in r] for r in rankings]
    return {
        f"recall@{K}": round(100 * float(np.mean([recall_at_k(r, g, K) for r, g in zip(ranked, gold, strict=True)])), 2),
        f"ndcg@{K}": round(100 * float(np.mean([ndcg_at_k(r, g, K) for r, g in zip(ranked, gold, strict=True)])), 2),
    }


def _evaluate(rankings: list[Rankings], fusions: dict[str, Fusion], gold: list[set[str]]) -> dict[str, dict[str, float]]:
    results = {name: _scores([r[name] for r in rankings], gold) for name in rankings[0]}
    for name, fusion in fusions.items():
        results[name] = _scores([fusion.fuse(r, K) for r in rankings], gold)
    return results


def _fit(rankings: list[Rankings], gold: list[set[str]], seed: int) -> dict[str, Fusion]:
    calibrated = CalibratedScoreFusion(sources=sorted(rankings[0])).fit(rankings, gold, seed=seed)
    best_c = max((10.0, 30.0, 60.0), key=lambda c: _scores([ReciprocalRankFusion(c).fuse(r, K) for r in rankings], gold)[f"ndcg@{K}"])
    logger.info("fitted fusion on %d dev queries (rrf c=%s)", len(rankings), best_c)
    return {"fused_rrf": ReciprocalRankFusion(best_c), "fused": calibrated}


def run_benchmark(corpora: Path, embeddings: Embeddings, workdir: Path, seed: int = 0, progress: Callable[[str], None] | None = None, symmetric: bool = True) -> dict[str, Any]:
    """Build the library under `workdir`, fit fusion on dev, score every split, time search.

    `symmetric` batches query embedding through `embed_documents` (right for MiniLM).
    """
    say = progress or logger.info
    folder = corpora / "seal_tools"
    say("building the library from Seal-Tools tools")
    library = SkillLibrary(workdir / "library", None)
    library.add_many(load_tools(folder), overwrite=True)
    skills = library.list()
    dense = DenseRetriever(embeddings, index_type="faiss", index_options=SKILL_VECTORS, aspects=True, symmetric=symmetric)
    hybrid = HybridRetriever({"bm25": library.retriever.retrievers["bm25"], "dense": dense})
    say(f"embedding {len(skills)} skills")
    hybrid.retrievers["dense"].add([s.name for s in skills], [index_text(s) for s in skills])
    runs = {}
    for split in SPLITS:
        say(f"retrieving {split} queries")
        queries, gold = load_queries(folder, split)
        runs[split] = (hybrid.rankings_many(queries), gold)
    fusions = _fit(*runs["dev"], seed)
    results: dict[str, Any] = {"skills": len(skills), "k": K, "fusion": {n: f.to_dict() for n, f in fusions.items()}, "splits": {}}
    for split, (rankings, gold) in runs.items():
        results["splits"][split] = _evaluate(rankings, fusions, gold)
    say("timing search at 10,000 skills")
    results["latency_ms"] = _latency(skills, embeddings, dense, fusions["fused"], load_queries(folder, "test_in")[0], seed)
    return results


def _synthetic(skills: list[Skill], vectors: np.ndarray, n: int, rng: np.random.Generator) -> tuple[list[str], list[str], np.ndarray]:
    pick = rng.integers(0, len(skills), size=(n, 2))
    ids = [f"synthetic-{i}" for i in range(n)]
    texts = [f"{index_text(skills[a])} {skills[b].description}" for a, b in pick]
    noisy = vectors[pick[:, 0]] + 0.3 * rng.standard_normal((n, vectors.shape[1])).astype(np.float32)
    return ids, texts, normalize(noisy)


def _latency(skills: list[Skill], embeddings: Embeddings, dense: DenseRetriever, fusion: Fusion, queries: list[str], seed: int, total: int = 10_000) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    if dense.index is None:
        raise InputError("the benchmark needs a built dense retriever")
    names = [s.name for s in skills]
    base = dense.index.vectors(names)
    ids, texts, synth = _synthetic(skills, base, total - len(skills), rng)
    bm25 = BM25Index()
    bm25.add(names + ids, [index_text(s) for s in skills] + texts)
    index = create_index("faiss", base.shape[1], **SKILL_VECTORS)
    index.add(names + ids, np.vstack([base, synth]))
    sample = [queries[i] for i in rng.choice(len(queries), size=min(200, len(queries)), replace=False)]
    qvec = normalize([embeddings.embed_query(q) for q in sample])
    timed = DenseRetriever(embeddings, index, aspects=dense.aspects, symmetric=dense.symmetric)
    big = HybridRetriever({"bm25": bm25, "dense": timed}, fusion)
    bm25.search(sample[0], K)
    return {
        "skills": float(len(bm25)),
        "bm25_p50": _p50(lambda q: bm25.search(q, K), sample),
        "dense_index_p50": _p50(lambda v: index.search_one(v, K), list(qvec)),
        "dense_end_to_end_p50": _p50(lambda q: timed.search(q, K), sample),
        "hybrid_end_to_end_p50": _p50(lambda q: big.search(q, K), sample),
    }


def _p50(call: Callable[[Any], object], items: Sequence[Any]) -> float:
    times = []
    for item in items:
        start = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)
