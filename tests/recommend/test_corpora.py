"""The benchmark on real corpora: the JSON layout, and the learned scorer ahead of every baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli import bench, recommend
from coachgraph.models import load_embeddings
from coachgraph.recommend.baselines import LEARNED
from coachgraph.recommend.evaluate import run_benchmark

pytestmark = [pytest.mark.corpora, pytest.mark.slow]


def test_learned_scorer_beats_every_baseline_on_adp(corpora_dir: Path, tmp_path: Path) -> None:
    with SQLiteCallTreeStore(tmp_path / "adp.sqlite") as store:
        ingest(store, "adp", [corpora_dir / "adp_samples"])
        result = run_benchmark(store, load_embeddings("minilm"), cache_dir=tmp_path / "cache")
    agent = result["agent_level"]
    ours = agent[LEARNED]
    assert ours["n"] > 100
    for name, row in agent.items():
        if name.startswith("coach"):
            continue
        assert ours["mrr"] > row["mrr"] and ours["top1"] > row["top1"], name
    assert result["system_level"][LEARNED]["connected"] == 1.0


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
    for row in result["system_level"].values():
        assert set(row) >= {"f1", "jaccard", "edge_f1", "connected"}
    assert set(result["latency_ms"]) == {"p50", "p99"}
    assert out.with_suffix(".md").read_text().startswith("| method |")
