"""Where a default curriculum training step spends its time, node by node.

Runs an ordinary curriculum run with the default settings (8 problems x 4 samples, SFT, the
default skills, student and schedule) for a few steps, then reads each node's start and end from
the run's calling tree (``calltrees.sqlite``, one node per graph step named
``<run>:step-<n>:<node>``) and prints the mean seconds per call of every node. A training step is
planner + teacher + student + critic + learn; a default run of 30 steps also evaluates 4 times
and reflects once, which the last column spreads over its steps.

The script prints the commit of the coachgraph it imported, so the same script measures an
older commit too (``PYTHONPATH=<checkout of that commit>``):

    python benchmarks/bench_step.py --steps 4 --threads 2 --json bench-out/step.json
    git worktree add /tmp/cg-before <commit>
    PYTHONPATH=/tmp/cg-before python benchmarks/bench_step.py --steps 4 --threads 2

Timings are only meaningful on an otherwise idle machine; the load average seen before and after
the run is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

import coachgraph
from coachgraph.calltree.stores import open_store
from coachgraph.graphs.curriculum import RunConfig, train_run

__all__ = ["CpuClock", "main", "node_seconds"]

STEP_NODES = ("planner", "teacher", "student", "critic", "learn")
"""The nodes every training step runs."""
DEFAULT_RUN = RunConfig()
_STEP_NODE = re.compile(r":step-(\d+):(\w+)$")


class CpuClock:
    """Process CPU seconds (all threads) spent in each node, read at every node's end: less
    sensitive than wall time to other programs sharing the machine."""

    def __init__(self) -> None:
        self.last = time.process_time()
        self.seconds: dict[str, list[float]] = defaultdict(list)

    def __call__(self, node: str, values: Any) -> None:
        now = time.process_time()
        self.seconds[node].append(now - self.last)
        self.last = now


def commit_of_package() -> str:
    """The commit (and whether the tree was dirty) of the coachgraph checkout that was imported."""
    folder = Path(coachgraph.__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"unknown ({folder})"
    return f"{head}{' (uncommitted changes)' if dirty else ''} ({folder})"


def node_seconds(calltrees: Path, trace_id: str) -> dict[str, list[tuple[int, float]]]:
    """Per graph node: (step, seconds) of every call in the run's trace."""
    store = open_store(calltrees, read_only=True)
    try:
        tree = store.get_tree(trace_id)
    finally:
        store.close()
    found: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for node in tree.nodes if tree else []:
        match = _STEP_NODE.search(node.id)
        if match and node.duration_s is not None and not match.group(2).startswith("__"):
            found[match.group(2)].append((int(match.group(1)), node.duration_s))
    return {name: sorted(calls) for name, calls in found.items()}


def _per_run_share(name: str) -> float:
    """Calls of node `name` per training step in a default run (30 steps)."""
    steps = DEFAULT_RUN.steps
    if name == "evaluate":
        return (steps // max(DEFAULT_RUN.eval_every, 1) + 1) / steps if DEFAULT_RUN.eval_every else 2 / steps
    if name == "reflect":
        return (steps // DEFAULT_RUN.reflect_every) / steps if DEFAULT_RUN.reflect_every else 0.0
    return 1.0


def summarize(seconds: dict[str, list[tuple[int, float]]], cpu: dict[str, list[float]]) -> dict[str, Any]:
    """Mean seconds per call of each node (wall and CPU), the training step, and the step with
    its share of evaluation and reflection in a default run."""
    nodes = {name: {"calls": len(calls), "mean_s": statistics.fmean(s for _, s in calls),
                    "per_step_in_default_run_s": statistics.fmean(s for _, s in calls) * _per_run_share(name),
                    "mean_cpu_s": statistics.fmean(cpu[name]) if cpu.get(name) else 0.0}
             for name, calls in seconds.items()}
    step = sum(nodes[n]["mean_s"] for n in STEP_NODES if n in nodes)
    amortized = sum(v["per_step_in_default_run_s"] for v in nodes.values())
    return {"nodes": nodes, "training_step_s": step, "default_run_step_s": amortized}


def _table(summary: dict[str, Any]) -> str:
    order = [*STEP_NODES, "evaluate", "reflect"]
    rows = ["| node | calls | mean s per call | s per step of a default run | mean CPU s per call |",
            "|---|---|---|---|---|"]
    for name in sorted(summary["nodes"], key=lambda n: order.index(n) if n in order else len(order)):
        node = summary["nodes"][name]
        rows.append(f"| {name} | {node['calls']} | {node['mean_s']:.2f} | {node['per_step_in_default_run_s']:.2f} "
                    f"| {node['mean_cpu_s']:.2f} |")
    rows.append(f"| training step ({' + '.join(STEP_NODES)}) | | {summary['training_step_s']:.2f} | | |")
    rows.append(f"| step of a default run (with evaluation and reflection) | | | {summary['default_run_step_s']:.2f} | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4, help="training steps to time")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the figures")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = DEFAULT_RUN.model_copy(update={"steps": args.steps, "seed": args.seed, "export": False,
                                            "reflect_every": args.steps, "threads": args.threads})
    commit, clock = commit_of_package(), CpuClock()
    load_before, started = os.getloadavg()[0], time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = args.out or Path(scratch) / "run"
        result = train_run(config, run_dir, progress=clock)
        summary = summarize(node_seconds(run_dir / "calltrees.sqlite", result.run_id), clock.seconds)
    report = {"commit": commit, "torch_threads": torch.get_num_threads(), "steps": args.steps,
              "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
              "wall_s": round(time.perf_counter() - started, 1), **summary}
    print(f"coachgraph {report['commit']}; torch threads {report['torch_threads']}; "
          f"load average {report['load_average'][0]} before, {report['load_average'][1]} after; "
          f"{args.steps} steps in {report['wall_s']} s")
    print(_table(summary))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
