"""The recommender on the real corpora: no label leaks, the learned scorer ahead of every baseline.

Every test here skips (with the reason) when `../shared/data/corpora` is absent.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.export import EXPORTERS
from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli import bench, recommend
from coachgraph.models import load_embeddings
from coachgraph.recommend.baselines import LEARNED
from coachgraph.recommend.catalog import catalog_from_store
from coachgraph.recommend.evaluate import run_benchmark, split_traces
from coachgraph.recommend.fitting import examples_from_store
from coachgraph.recommend.recommender import Recommender, RecommenderConfig
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import build_stats
from coachgraph.recommend.team_baselines import LEARNED_TEAM, TEAM_METHODS
from coachgraph.recommend.train import Encoded
from tests.fakes import HashEmbeddings

pytestmark = pytest.mark.corpora


def _assert_learned_wins(result: dict) -> None:
    agent = result["agent_level"]
    ours = agent[LEARNED]
    for name, row in agent.items():
        if name.startswith("coach"):  # our own ablations, not baselines
            continue
        assert ours["mrr"] > row["mrr"] and ours["top1"] > row["top1"], (name, ours, row)


def _assert_team_wins(system: dict) -> None:
    """The learned team recommender ahead of every baseline on member F1 and directed edge F1 (no
    method was told the true team's size), with member F1 intervals above zero over every
    baseline but `coach-top`. On NESTFUL's 60 test traces the member F1 margin over `coach-top`
    (the agent-level scorer's best candidates) and the edge F1 margin over the nearest task's team
    are positive but their intervals include zero."""
    assert set(system["margins"]) == set(TEAM_METHODS) - {LEARNED_TEAM}
    for name, row in system["margins"].items():
        assert row["member_f1"]["mean"] > 0 and row["edge_f1"]["mean"] > 0, (name, row)
        assert name == "coach-top" or row["member_f1"]["ci95"][0] > 0, (name, row)


def _features(store: CallTreeStore, test_ids: list[str], shuffle: bool) -> Encoded:
    """Test-split features as the benchmark computes them (statistics from the training split)."""
    train_ids, _ = split_traces(store.trace_ids(), 0)
    catalog = catalog_from_store(store, store.iter_trees(), HashEmbeddings(dims=32))
    rec = Recommender(catalog, build_stats(store.iter_trees(train_ids)), Scorer(ScorerConfig(n_features=1)),
                      {}, RecommenderConfig())
    examples = examples_from_store(store, test_ids)
    if shuffle:
        answers = [e.chosen for e in examples]
        random.Random(1).shuffle(answers)
        examples = [replace(e, chosen=a) for e, a in zip(examples, answers, strict=True)]
    return rec.encode(examples)


def test_test_labels_never_reach_a_feature_on_who_and_when(corpora_dir: Path, tmp_path: Path) -> None:
    """Shuffled test answers, flipped test outcomes and a renamed blamed agent change no feature."""
    with SQLiteCallTreeStore(tmp_path / "ww.sqlite") as store:
        ingest(store, "who-and-when", [corpora_dir / "who_and_when"])
        _, test_ids = split_traces(store.trace_ids(), 0)
        before = _features(store, test_ids, shuffle=False)
        shuffled = _features(store, test_ids, shuffle=True)
        for tree in list(store.iter_trees(test_ids)):
            store.put_tree(tree.model_copy(update={"success": not tree.success,
                                                   "labels": {**tree.labels, "mistake_agent": "ground_truth"}}))
        relabelled = _features(store, test_ids, shuffle=False)
    assert len(before) > 100
    for other in (shuffled, relabelled):
        np.testing.assert_array_equal(before.feats, other.feats)
        assert before.names == other.names
    assert not np.array_equal(before.targets, shuffled.targets)  # the shuffle did move the answers


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "folder"), [("adp", "adp_samples"), ("nestful", "nestful")])
def test_learned_scorer_beats_every_baseline(corpora_dir: Path, tmp_path: Path, fmt: str, folder: str) -> None:
    with SQLiteCallTreeStore(tmp_path / "c.sqlite") as store:
        ingest(store, fmt, [corpora_dir / folder])
        result = run_benchmark(store, load_embeddings("minilm"), cache_dir=tmp_path / "cache")
    assert result["agent_level"][LEARNED]["n"] > 100
    _assert_learned_wins(result)
    assert result["system_level"]["methods"][LEARNED_TEAM]["connected"] == 1.0
    if fmt == "nestful":  # teams of 2-6 tools with data-flow edges between them
        _assert_team_wins(result["system_level"])


@pytest.mark.slow
def test_learned_scorer_wins_on_a_corpus_read_back_from_otlp_json(corpora_dir: Path, tmp_path: Path) -> None:
    """A corpus handed over only as an OTLP/JSON file: no corpus-specific code reads it."""
    with SQLiteCallTreeStore(tmp_path / "native.sqlite") as native:
        ingest(native, "adp", [corpora_dir / "adp_samples"])
        EXPORTERS["otlp-json"](list(native.iter_trees()), tmp_path / "adp.otlp.json", [])
    with SQLiteCallTreeStore(tmp_path / "otlp.sqlite") as store:
        ingest(store, "otlp-json", [tmp_path / "adp.otlp.json"])
        result = run_benchmark(store, load_embeddings("minilm"), cache_dir=tmp_path / "cache")
    assert result["agent_level"][LEARNED]["n"] > 100
    _assert_learned_wins(result)


@pytest.mark.slow
def test_bench_command_writes_the_documented_json(corpora_dir: Path, tmp_path: Path) -> None:
    app = typer.Typer()
    recommend.register(app)
    app.add_typer(bench.app, name="bench")
    out = tmp_path / "r.json"
    run = CliRunner().invoke(app, ["bench", "recommend", "--format", "toolbench-dfsdt", "--json", str(out),
                                   str(corpora_dir / "toolbench_dfsdt_examples")])
    assert run.exit_code == 0, run.output
    result = json.loads(out.read_text())
    assert set(result) >= {"agent_level", "system_level", "latency_ms"}
    for row in result["agent_level"].values():
        assert set(row) >= {"top1", "top3", "mrr", "ndcg10", "n"} and 0 <= row["mrr"] <= 1
    # most DFSDT runs give up, and failed runs are no team examples: too few teams are left to score
    assert result["system_level"]["skipped"].endswith("traces with a team are too few")
    assert set(result["latency_ms"]) == {"p50", "p99"}
    assert out.with_suffix(".md").read_text().startswith("| method |")
    _assert_learned_wins(result)  # ToolBench too: only 3 test traces, so this guards against regressions
