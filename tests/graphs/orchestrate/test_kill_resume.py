"""`coachgraph orchestrate` killed with SIGKILL mid-run, then `--resume`d, ends like an uninterrupted
run: the same tasks, teams and outcomes, one calling tree per task, and the same retrainings."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

POOL = """schema_version: 1
name: tools
description: Tools and agents for arithmetic questions and word problems.
members:
  - {name: word-parser, tool: "coachgraph.agents.marketplace:word_parser", description: Parses word problems.}
  - {name: calculator, tool: "coachgraph.agents.marketplace:calculator", description: Exact calculator.}
  - {name: quick-calculator, tool: "coachgraph.agents.marketplace:quick_calculator", description: Quick calculator.}
  - {name: column-solver, graph: "coachgraph.agents.marketplace:column_solver", description: Column arithmetic.}
  - {name: checker, graph: "coachgraph.agents.marketplace:checker", description: Checks answers.}
"""


def _orchestrate(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "coachgraph.cli.main", "orchestrate", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finished_tasks(run_dir: Path) -> int:
    path = run_dir / "checkpoints.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("select count(*) from writes where channel = 'results'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _records(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    keep = ("index", "task_id", "team", "success", "blamed", "model_version")
    return sorted(({k: r[k] for k in keep} for r in rows), key=lambda r: r["index"])


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    (tmp_path / "pool.yaml").write_text(POOL, encoding="utf-8")
    args = ["--pool", str(tmp_path / "pool.yaml"), "--rounds", "3", "--tasks-per-round", "4", "--team-size", "2",
            "--retrain-every", "4", "--seed", "2"]
    whole = _orchestrate(*args, "--out", str(tmp_path / "whole"))
    assert whole.wait(timeout=900) == 0, whole.stderr.read().decode() if whole.stderr else ""

    killed = tmp_path / "killed"
    victim = _orchestrate(*args, "--out", str(killed))
    deadline = time.monotonic() + 900
    while _finished_tasks(killed) < 6 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim.poll() is None, "the run ended before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (killed / "results.jsonl").exists()

    resumed = _orchestrate("--resume", str(killed))
    assert resumed.wait(timeout=900) == 0, resumed.stderr.read().decode() if resumed.stderr else ""
    assert _records(killed) == _records(tmp_path / "whole")
    from coachgraph.calltree.stores import open_store

    with open_store(killed / "teams.sqlite") as store:
        assert len(store.trace_ids(source="coachgraph-orchestrate")) == 12
