"""`coachgraph recommend next|team`, `serve` and `bench recommend` through the main application."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import coachgraph.models
from coachgraph.calltree.export import EXPORTERS
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli.main import app
from tests.fakes import HashEmbeddings
from tests.recommend._trees import make_store, make_tree, make_trees

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A synthetic store; the CLI embeds with a hashing fake instead of loading MiniLM."""
    monkeypatch.setattr(coachgraph.models, "load_embeddings", lambda spec="minilm": HashEmbeddings(dims=32))
    path = tmp_path / "s.sqlite"
    make_store(path).close()
    return str(path)


def test_next_ranks_with_group_contributions(store: str) -> None:
    run = runner.invoke(app, ["recommend", "next", "--store", store, "--task", "What is the weather in Oslo tomorrow?",
                              "--trace", "t000", "--node", "c0", "-k", "2"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "weather_api" in run.output
    for group in ("relevance", "reliability", "interaction", "structure", "content"):
        assert group in run.output
    missing = runner.invoke(app, ["recommend", "next", "--store", store, "--task", "x", "--trace", "nope"])
    assert missing.exit_code == 2 and "nope" in missing.output
    tricky = "weather a[i] [/] [bold]x[/] :smile:"
    titled = runner.invoke(app, ["recommend", "next", "--store", store, "--task", tricky], env={"COLUMNS": "200"})
    assert titled.exit_code == 0 and f"next agent/tool for: {tricky}" in titled.output


def test_team_is_connected(store: str) -> None:
    run = runner.invoke(app, ["recommend", "team", "--store", store, "--task", "What is the weather in Rome?",
                              "--max-size", "2"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "connected: True" in run.output


def test_serve_is_registered() -> None:
    run = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert run.exit_code == 0 and "--workers" in run.output and "--api-key" in run.output


def test_bench_reads_an_exported_format(store: str, tmp_path: Path) -> None:
    """The documented form: `bench recommend --format FORMAT --json OUT INPUT`, here on OTLP/JSON."""
    traces = tmp_path / "traces.json"
    EXPORTERS["otlp-json"](make_trees(60), traces, [])
    out = tmp_path / "r.json"
    run = runner.invoke(app, ["bench", "recommend", "--format", "otlp-json", "--json", str(out), str(traces)],
                        env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    result = json.loads(out.read_text())
    assert {"coach", "popularity", "markov", "dense", "bm25", "sasrec", "paper-linear"} <= set(result["agent_level"])
    assert set(result["latency_ms"]) == {"p50", "p99"}
    assert result["agent_level"]["coach"]["n"] > 0
    margin = result["margins"]["dense"]["mrr"]
    assert "coach" not in result["margins"] and margin["ci95"][0] <= margin["mean"] <= margin["ci95"][1]
    assert out.with_suffix(".md").read_text().startswith("| method |")
    assert "| coach |" in run.output


def _flat(text: str) -> str:
    """`text` with rich's line wrapping undone."""
    return " ".join(text.split())


def test_train_shows_progress_and_a_stale_model_is_named_warned_or_refused(store: str) -> None:
    wide = {"COLUMNS": "200"}
    train = runner.invoke(app, ["recommend", "train", "--store", store], env=wide)
    assert train.exit_code == 0, train.output
    assert "trained on 60 traces" in train.stdout
    for stage in ("embedding catalogue items", "featurising decisions", "training the scorer"):
        assert stage in train.stderr
    status = runner.invoke(app, ["recommend", "status", "--store", store], env=wide)
    assert status.exit_code == 0 and "60 traces" in status.stdout and re.search(r"fresh\s+yes", status.stdout)
    with SQLiteCallTreeStore(store) as opened:
        opened.put_trees([make_tree(i, "math", random.Random(i)) for i in range(60, 65)])
    stale = runner.invoke(app, ["recommend", "status", "--store", store], env=wide)
    assert "5 new or changed" in _flat(stale.stdout) and f"coachgraph recommend train --store {store}" in _flat(stale.stdout)
    refused = runner.invoke(app, ["recommend", "next", "--store", store, "--task", "Compute 3 times seven",
                                  "--if-stale", "refuse"], env=wide)
    assert refused.exit_code == 2 and "now holds 65" in _flat(refused.stderr)
    assert f"coachgraph recommend train --store {store}" in _flat(refused.stderr)
    warned = runner.invoke(app, ["recommend", "next", "--store", store, "--task", "Compute 3 times seven",
                                 "--if-stale", "warn", "-k", "1"], env=wide)
    assert warned.exit_code == 0 and "warning:" in warned.stderr and "calculator" in warned.stdout
    assert "embedding" not in warned.stderr  # nothing retrained


def test_a_model_of_the_previous_release_is_refused_with_how_to_retrain(store: str) -> None:
    folder = Path(f"{store}.recommender")
    folder.mkdir()
    torch.save({"config": {}, "state": {}, "extra": {}}, folder / "recommender.pt")
    run = runner.invoke(app, ["recommend", "next", "--store", store, "--task", "x", "--if-stale", "refuse"],
                        env={"COLUMNS": "200"})
    assert run.exit_code == 2
    assert "older release" in _flat(run.stderr) and f"coachgraph recommend train --store {store}" in _flat(run.stderr)
