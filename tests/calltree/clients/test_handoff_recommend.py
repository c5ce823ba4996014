"""The recommender, trained on what each real tracing client wrote of a LangGraph supervisor
program, answers "which agent next" at the supervisor's handoffs of runs it never saw.

Each client records the corpus program (`corpus.py`: a supervisor handing off to agents and
sub-teams chosen by the task's wording); its traces are ingested with `coachgraph ingest`, the
runs are cut into five folds, and for each fold the recommender is trained on the other four and
the fold's runs are added to the store afterwards, so every run is held out once. At every handoff
of a held-out run, `RecommendService.next(kind="agent")` must offer agents only
(never the supervisor, the program's graph, a graph node or a tool), and rank the agent handed
to first in most cases, with a paired interval of its lead over popularity above zero.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from coachgraph.calltree.schema import CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli.main import app
from coachgraph.config import Settings
from coachgraph.recommend.evaluate import bootstrap
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.teammodel import MemberTrainConfig, TeamModelConfig
from coachgraph.recommend.trainer import train_store
from tests.conftest import REPO_ROOT
from tests.fakes import HashEmbeddings

pytestmark = pytest.mark.slow

FORMATS = {"openinference": ("openinference", "spans.jsonl"), "otel-genai": ("otlp-json", "spans.jsonl"),
           "traceloop": ("otlp-json", "spans.jsonl"), "langsmith": ("langsmith", "runs.jsonl")}
"""Each client, the format its traces are ingested with and the file it writes."""
RUNS = "120:7"
"""Runs of the corpus program and the seed of its organisation."""
FOLDS = 5
"""Cross-validation folds: each run is held out once, so the figure does not hang on one split."""
EMB = "hash"
CONFIG = RecommenderConfig(arch_choices=("mlp",), folds=3, team=TeamModelConfig(
    arch_choices=("linear",), arch="linear", folds=3, train=MemberTrainConfig(epochs=15)))
"""The default agent-level scorer; the team recommender, which this test does not ask, kept quick."""
runner = CliRunner()


def _record(client: str, out: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "OTEL_", "TRACELOOP_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-m", "tests.calltree.clients.record", client, str(out), f"corpus:{RUNS}"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{client} recorder failed:\n{done.stderr[-3000:]}"


def _ingested(client: str, tmp_path: Path) -> list[CallTree]:
    fmt, written = FORMATS[client]
    _record(client, tmp_path / client)
    result = runner.invoke(app, ["ingest", "--format", fmt, "--store", str(tmp_path / "all.sqlite"),
                                 str(tmp_path / client / written)])
    assert result.exit_code == 0 and result.stdout.endswith("; 0 quarantined\n"), result.output
    with SQLiteCallTreeStore(tmp_path / "all.sqlite") as store:
        return list(store.iter_trees())


def _popularity_top1(names: list[str], chosen: str, calls: dict[str, int]) -> float:
    """Whether popularity ranks `chosen` first among `names`, ties broken at random (in expectation)."""
    best = max(calls.get(n, 0) for n in names)
    tied = [n for n in names if calls.get(n, 0) == best]
    return 1.0 / len(tied) if chosen in tied else 0.0


def _folds(trees: list[CallTree]) -> list[set[str]]:
    ids = sorted(t.trace_id for t in trees if t.task)
    random.Random(0).shuffle(ids)
    return [set(ids[i::FOLDS]) for i in range(FOLDS)]


def _ranked_at_handoffs(trees: list[CallTree], held_out: set[str], where: Path) -> tuple[list[float], list[float]]:
    """Train without `held_out`, add it afterwards; at each of its handoffs, whether we and
    popularity rank the agent handed to first."""
    location, settings = str(where / "s.sqlite"), Settings(cache=where / "cache", default_embeddings=EMB)
    with SQLiteCallTreeStore(location) as store:
        store.put_trees([t for t in trees if t.trace_id not in held_out])
    train_store(location, settings, embeddings=HashEmbeddings(dims=64), config=CONFIG)
    with SQLiteCallTreeStore(location) as store:  # runs that arrive after training
        store.put_trees([t for t in trees if t.trace_id in held_out])
    service = RecommendService(location, settings, embeddings=HashEmbeddings(dims=64), watch_s=None)
    agents, calls = set(service.recommender.catalog.names("agent")), dict(service.stats.calls)
    not_agents = {n.tool for t in trees for n in t.nodes if n.kind in ("tool", "handoff")} | {"model", "tools", "coordinator"}
    ours, popular = [], []
    for tree in (t for t in trees if t.trace_id in held_out):
        for node in (n for n in tree.nodes if n.kind == "handoff"):
            ranked = [r.name for r in service.next("", trace_id=tree.trace_id, node_id=node.id, k=64, kind="agent")]
            assert ranked and set(ranked) <= agents and not set(ranked) & (not_agents | {node.agent}), ranked
            chosen = node.attributes["to_agent"]
            ours.append(float(ranked[0] == chosen))
            popular.append(_popularity_top1(ranked, chosen, calls))
    return ours, popular


@pytest.mark.parametrize("client", sorted(FORMATS))
def test_the_agent_handed_to_is_ranked_first_at_held_out_handoffs(client: str, tmp_path: Path) -> None:
    trees = _ingested(client, tmp_path)
    ours, popular = [], []
    for i, held_out in enumerate(_folds(trees)):
        (tmp_path / f"fold{i}").mkdir()
        fold_ours, fold_popular = _ranked_at_handoffs(trees, held_out, tmp_path / f"fold{i}")
        ours += fold_ours
        popular += fold_popular
    lead = np.array(ours) - np.array(popular)
    assert len(ours) >= 200 and np.mean(ours) > 0.5, (len(ours), np.mean(ours))
    assert bootstrap(lead)[0] > 0, (np.mean(ours), np.mean(popular), bootstrap(lead))
