"""`coachgraph train` killed with SIGKILL mid-run, then `--resume`d, ends like an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.models.conftest import build_tiny_checkpoint

pytestmark = pytest.mark.slow

ARGS = ["--teacher", "alp-gmm", "--steps", "8", "--seed", "5", "--precision", "fp32", "--batch-size", "2",
        "--samples", "2", "--eval-every", "3", "--eval-size", "2", "--skills", "add-1d,sub-1d,add-2d",
        "--max-tokens", "8", "--lr", "0.01", "--reflect-every", "4", "--threads", "1"]


def _train(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "coachgraph.cli.main", "train", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _learned_steps(run_dir: Path) -> int:
    """Training steps recorded by the checkpointer so far (0 before the first)."""
    import sqlite3

    path = run_dir / "checkpoints.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("select count(*) from writes where channel = 'metrics'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _traced_learn_steps(run_dir: Path) -> int:
    """Learn steps whose calls are in the run's calling-tree store."""
    from coachgraph.calltree.stores import open_store

    with open_store(run_dir / "calltrees.sqlite") as store:
        trees = list(store.iter_trees())
    return sum(1 for tree in trees for node in tree.nodes if node.name == "learn" and node.kind == "agent")


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    tiny = build_tiny_checkpoint(tmp_path / "tiny")
    student = ["--student", f"hf:{tiny}"]
    whole = _train(*ARGS, *student, "--out", str(tmp_path / "whole"))
    assert whole.wait(timeout=600) == 0, whole.stderr.read().decode() if whole.stderr else ""

    killed_dir = tmp_path / "killed"
    victim = _train(*ARGS, *student, "--out", str(killed_dir))
    deadline = time.monotonic() + 600
    while _learned_steps(killed_dir) < 2 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim.poll() is None, "the run ended before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (killed_dir / "curriculum.json").exists()
    learned = _learned_steps(killed_dir)
    assert _traced_learn_steps(killed_dir) >= learned - 1  # the last node's calls may wait for the next step

    resumed = _train("--resume", str(killed_dir))
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read().decode() if resumed.stderr else ""
    a = json.loads((tmp_path / "whole" / "curriculum.json").read_text())
    b = json.loads((killed_dir / "curriculum.json").read_text())
    assert [(s["skill"], s["difficulty"]) for s in a["steps"]] == [(s["skill"], s["difficulty"]) for s in b["steps"]]
    assert (tmp_path / "whole" / "mastery.md").read_text() == (killed_dir / "mastery.md").read_text()
    weights_a = (tmp_path / "whole" / "checkpoint" / "model.safetensors").read_bytes()
    assert weights_a == (killed_dir / "checkpoint" / "model.safetensors").read_bytes()
    assert _traced_learn_steps(killed_dir) == _traced_learn_steps(tmp_path / "whole") == 8
