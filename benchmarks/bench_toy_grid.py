"""Teachers side by side on the ALP-GMM paper's toy grid (mastered cells of 100).

Every teacher drives its own grid for the same number of episodes and seeds; mastered cells are
read every `--read-every` episodes. The table gives, per teacher, the settings that differ from
the paper's code (every setting for teachers the paper does not have), the mean over seeds of the
final reading with its 95% interval and the per-seed values, and the episodes at which the
seed-mean curve first reaches `--target` cells. A teacher is a registered name with optional
``:field=value`` overrides, e.g. ``covar-gmm:fit_rate=100:window=250``.

    python benchmarks/bench_toy_grid.py --json bench-out/toy.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from coachgraph.curriculum import TOY_SPACE, make_teacher, run_toy
from coachgraph.curriculum.compare import Variant, first_at_least, mean_interval, parse_variant

__all__ = ["PAPER_TEACHERS", "main", "run_variant"]

PAPER_TEACHERS = frozenset({"random", "riac", "covar-gmm", "alp-gmm"})
"""Teachers of the ALP-GMM paper, whose defaults here are those of its code."""

DEFAULT_TEACHERS = "random,riac,covar-gmm,alp-gmm,alp-bins"


def differing(variant: Variant) -> dict[str, Any]:
    """Settings that differ from the paper's code: the overrides, or all for a new teacher."""
    return dict(variant.options) if variant.base in PAPER_TEACHERS else variant.settings()


def run_variant(variant: Variant, episodes: int, seeds: int, read_every: int,
                target: int) -> dict[str, Any]:
    """Readings of every seed with the summary figures."""
    started = time.perf_counter()
    runs = [run_toy(make_teacher(variant.spec, TOY_SPACE, seed=seed, configs=variant.configs),
                    episodes, read_every) for seed in range(seeds)]
    finals = [float(r[-1]) for r in runs]
    mean, low, high = mean_interval(finals)
    curve = [statistics.fmean(c) for c in zip(*runs, strict=True)]
    reach = first_at_least(curve, target)
    return {"teacher": variant.label, "spec": variant.spec, "differs_from_paper": differing(variant),
            "runs": runs, "mean_curve": curve, "final_mean": mean, "final_ci95": [low, high],
            "finals": finals, f"episodes_to_{target}": None if reach is None
            else (reach + 1) * read_every, "seconds": round(time.perf_counter() - started, 1)}


def _settings_text(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items()) or "none"


def print_table(results: list[dict[str, Any]], episodes: int, target: int) -> None:
    """A markdown table of the summary, then the mean curves."""
    print(f"| teacher | settings differing from the paper's code | mastered at {episodes:,} "
          f"(mean [95% CI]) | per seed | episodes to {target} cells |")
    print("|---|---|---|---|---|")
    for res in results:
        low, high = res["final_ci95"]
        reach = res[f"episodes_to_{target}"]
        print(f"| {res['teacher']} | {_settings_text(res['differs_from_paper'])} | "
              f"{res['final_mean']:.1f} [{low:.1f}, {high:.1f}] | "
              f"{', '.join(str(int(f)) for f in res['finals'])} | "
              f"{'not reached' if reach is None else f'{reach:,}'} |")
    print()
    for res in results:
        curve = " ".join(f"{m:.1f}" for m in res["mean_curve"])
        print(f"{res['teacher']}: mean curve {curve} ({res['seconds']} s)")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every teacher, print the table and write JSON when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--read-every", type=int, default=1_000)
    parser.add_argument("--target", type=int, default=90, help="cells for the episodes-to column")
    parser.add_argument("--teachers", default=DEFAULT_TEACHERS,
                        help="comma-separated teachers, each NAME[:FIELD=VALUE]...")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    variants = [parse_variant(t) for t in args.teachers.split(",") if t.strip()]
    results = [run_variant(v, args.episodes, args.seeds, args.read_every, args.target)
               for v in variants]
    print_table(results, args.episodes, args.target)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"episodes": args.episodes, "seeds": args.seeds,
                                         "read_every": args.read_every, "target": args.target,
                                         "teachers": results}, indent=2))


if __name__ == "__main__":
    main()
