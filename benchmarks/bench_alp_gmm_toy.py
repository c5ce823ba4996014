"""ALP-GMM against random on the ALP-GMM paper's toy grid.

Prints mastered cells (of 100) read every 1,000 episodes, mean and spread over seeds, and
optionally writes them as JSON.

    python benchmarks/bench_alp_gmm_toy.py --episodes 20000 --seeds 3 --json toy.json
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

from coachgraph.curriculum import TOY_SPACE, make_teacher, run_toy

__all__ = ["main", "run"]

logger = logging.getLogger(__name__)


def run(teachers: list[str], episodes: int, seeds: int, read_every: int) -> dict[str, object]:
    """Readings per teacher and seed, with their mean and min/max per reading."""
    results: dict[str, object] = {"episodes": episodes, "read_every": read_every, "teachers": {}}
    for name in teachers:
        runs, started = [], time.perf_counter()
        for seed in range(seeds):
            runs.append(run_toy(make_teacher(name, TOY_SPACE, seed=seed), episodes, read_every))
        columns = list(zip(*runs, strict=True))
        results["teachers"][name] = {  # type: ignore[index]
            "runs": runs,
            "mean": [statistics.fmean(c) for c in columns],
            "min": [min(c) for c in columns],
            "max": [max(c) for c in columns],
            "seconds": round(time.perf_counter() - started, 1),
        }
    return results


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, print a table and write JSON when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--read-every", type=int, default=1_000)
    parser.add_argument("--teachers", default="alp-gmm,random")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    results = run(args.teachers.split(","), args.episodes, args.seeds, args.read_every)
    for name, res in results["teachers"].items():  # type: ignore[union-attr]
        means = " ".join(f"{m:5.1f}" for m in res["mean"])
        print(f"{name:8s} mean mastered per {args.read_every}: {means}  ({res['seconds']} s)")
        print(f"{'':8s} final min/max over seeds: {res['min'][-1]}/{res['max'][-1]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
