"""Teachers compared on a simulated student over the arithmetic domain's skill graph.

The simulated learner (`coachgraph.curriculum.simulated`) gets the arithmetic skills and their
prerequisites as data, starting with the one-digit facts partly known. Every teacher trains
learner seed s with teacher seed s, so seeds pair across teachers (same per-skill learning
rates). Per teacher: the final true accuracy (the mean over skills of each skill's success
probability) with its 95% interval over seeds, the paired difference to the first teacher listed,
skills at or above `--mastery`, and the steps until the mean true accuracy first reaches
`--target`. `--scored` takes the mean over some skills only and `--initial` sets where the
learner starts, so a run can mirror a comparison on the real student. A development aid for
tuning teachers before runs on the real student.

    python benchmarks/bench_simulated_student.py --seeds 30 --json bench-out/simulated.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from coachgraph.curriculum import TaskSpace, make_teacher
from coachgraph.curriculum.compare import Variant, first_at_least, mean_interval, parse_variant
from coachgraph.curriculum.simulated import LearnerConfig, SimulatedLearner, run_simulation
from coachgraph.skills import prerequisites_within
from coachgraph.tasks.skills import PREREQUISITES, SKILLS

__all__ = ["main", "run_variant"]

DEFAULT_TEACHERS = ("random,sec,alp-gmm,covar-gmm,riac,alp-bins,irt,stat-sel,plr,"
                    "learning-progress,learnability,prereq-gate+random,prereq-gate+sec,"
                    "prereq-gate+alp-bins,prereq-gate+learnability")
INITIAL = {"add-1d": 0.9, "sub-1d": 0.8, "mul-1d": 0.7}
"""Starting competence: the one-digit facts the embedded student mostly knows."""


def run_variant(variant: Variant, learner: LearnerConfig, args: argparse.Namespace
                ) -> dict[str, Any]:
    """Every seed's accuracy curve and final per-skill accuracy."""
    skills = args.skills or SKILLS
    graph = prerequisites_within(PREREQUISITES, skills)
    configs = {"prereq-gate": {"prerequisites": graph}, "goal": {"prerequisites": graph, "goals": args.scored},
               **variant.configs}
    curves, finals, mastered, started = [], [], [], time.perf_counter()
    for seed in range(args.seeds):
        teacher = make_teacher(variant.spec, TaskSpace.of(skills), seed=seed, configs=configs)
        history = run_simulation(teacher, SimulatedLearner(graph, learner, seed=seed),
                                 args.steps, args.batch, args.samples)
        scored = args.scored or tuple(history[0])
        curves.append([statistics.fmean(h[k] for k in scored) for h in history])
        finals.append(history[-1])
        mastered.append(sum(p >= args.mastery for p in history[-1].values()))
    return {"teacher": variant.label, "settings": variant.settings(), "curves": curves,
            "final_per_skill": finals, "mastered": mastered,
            "steps_to_target": [first_at_least(c, args.target) for c in curves],
            "seconds": round(time.perf_counter() - started, 1)}


def summarise(res: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Final accuracy, paired difference, mastered skills and steps to target, with intervals."""
    final = [c[-1] for c in res["curves"]]
    paired = [a[-1] - b[-1] for a, b in zip(res["curves"], reference["curves"], strict=True)]
    reached = [s for s in res["steps_to_target"] if s is not None]
    return {"final": mean_interval(final), "paired_vs_reference": mean_interval(paired),
            "mastered": mean_interval([float(m) for m in res["mastered"]]),
            "reached": len(reached), "steps_to_target": mean_interval(reached) if reached else None}


def _fmt(interval: tuple[float, float, float] | None, digits: int = 3) -> str:
    if interval is None:
        return "not reached"
    mean, low, high = interval
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """A markdown table with one row per teacher."""
    first = results[0]["teacher"]
    over = ", ".join(args.scored) if args.scored else "every skill"
    print(f"| teacher | final true accuracy over {over} (mean [95% CI]) | paired vs {first} | "
          f"skills >= {args.mastery} of {len(args.skills or SKILLS)} | steps to {args.target} (seeds reaching) |")
    print("|---|---|---|---|---|")
    for res in results:
        s = res["summary"]
        print(f"| {res['teacher']} | {_fmt(s['final'])} | {_fmt(s['paired_vs_reference'])} | "
              f"{_fmt(s['mastered'], 1)} | {_fmt(s['steps_to_target'], 0)} "
              f"({s['reached']}/{args.seeds}) |")


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list of skills."""
    return tuple(s for s in text.split(",") if s)


def _competences(text: str) -> dict[str, float]:
    """``add-1d=0.5,sub-1d=0.15`` as a mapping; each value must lie in [0, 1]."""
    out: dict[str, float] = {}
    for item in (i for i in text.split(",") if i.strip()):
        skill, _, value = item.partition("=")
        try:
            competence = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r} is not SKILL=VALUE") from None
        if not 0.0 <= competence <= 1.0:
            raise argparse.ArgumentTypeError(f"competence of {skill.strip()!r} must lie in [0, 1], got {competence}")
        out[skill.strip()] = competence
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every teacher on every seed, print the table, write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", default=DEFAULT_TEACHERS,
                        help="comma-separated teachers, each SPEC[:FIELD=VALUE]...; the first "
                             "is the reference of the paired column")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=8, help="problems per step")
    parser.add_argument("--samples", type=int, default=4, help="answers per problem")
    parser.add_argument("--target", type=float, default=0.6, help="mean true accuracy to reach")
    parser.add_argument("--mastery", type=float, default=0.8, help="accuracy of a mastered skill")
    parser.add_argument("--signal", default="correct", help="what answers teach: correct, contrast")
    parser.add_argument("--skills", type=_names, default=(),
                        help="comma-separated skills (default: all twelve); prerequisites outside "
                             "them are replaced by their nearest ones inside")
    parser.add_argument("--scored", type=_names, default=(),
                        help="comma-separated skills the accuracy is the mean of (default: every skill)")
    parser.add_argument("--initial", type=_competences, default=None,
                        help="starting competence as SKILL=VALUE,... (default: one-digit facts 0.9, 0.8, 0.7)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    skills = args.skills or SKILLS
    unknown = [s for s in (*args.scored, *(args.initial or {})) if s not in skills]
    if unknown:
        parser.error(f"skill {unknown[0]!r} is not simulated; skills: {', '.join(skills)}")
    initial = INITIAL if args.initial is None else args.initial
    learner = LearnerConfig(initial={s: c for s, c in initial.items() if s in skills}, signal=args.signal)
    variants = [parse_variant(t) for t in args.teachers.split(",") if t.strip()]
    results = [run_variant(v, learner, args) for v in variants]
    for res in results:
        res["summary"] = summarise(res, results[0])
    print_table(results, args)
    print()
    for res in results:
        print(f"{res['teacher']}: {res['seconds']} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"arguments": {k: str(v) for k, v in vars(args).items()},
                                         "teachers": results}, indent=2))


if __name__ == "__main__":
    main()
