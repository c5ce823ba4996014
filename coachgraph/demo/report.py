"""The demo's report folder: ``report.md`` and the plots it shows, every number from the run."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coachgraph.graphs.curriculum.outputs import mastery_table, plot_curves
from coachgraph.graphs.orchestrate import plot_rounds, plot_team
from coachgraph.graphs.orchestrate.outputs import rounds_table
from coachgraph.types import Curriculum

if TYPE_CHECKING:
    from coachgraph.demo.run import DemoResult

__all__ = ["learnable_gain", "plot_curriculum", "practice_counts", "write_report"]


def plot_curriculum(curriculum: Curriculum, skills: Sequence[str], path: Path) -> Path:
    """Problems per skill at every training step, stacked: what the curriculum chose over time."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = sorted({s.step for s in curriculum.steps})
    counts = Counter((s.step, s.skill) for s in curriculum.steps)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    bottom = [0] * len(steps)
    for skill in skills:
        heights = [counts[(step, skill)] for step in steps]
        ax.bar([s + 1 for s in steps], heights, bottom=bottom, label=skill)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set(xlabel="training step", ylabel="problems practised", title=f"Curriculum chosen by {curriculum.teacher}")
    ax.set_xticks([s + 1 for s in steps])
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def practice_counts(curriculum: Curriculum) -> str:
    """Problems the curriculum gave each skill over the run, most practised first.

    >>> from coachgraph.types import CurriculumStep
    >>> practice_counts(Curriculum(teacher="sec", seed=0, steps=[CurriculumStep(skill="a"), CurriculumStep(skill="b"),
    ...                                                   CurriculumStep(skill="b")]))
    'b 2, a 1'
    """
    counts = Counter(s.skill for s in curriculum.steps)
    return ", ".join(f"{skill} {n}" for skill, n in counts.most_common())


def learnable_gain(history: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """Mean held-out accuracy over the run's skills at the first and the last evaluation.

    >>> learnable_gain([{"step": 0, "accuracy": {"a": 0.25, "b": 0.5}}, {"step": 6, "accuracy": {"a": 0.5, "b": 0.75}}])
    (0.375, 0.625)
    """
    if not history:
        return 0.0, 0.0
    return statistics.fmean(history[0]["accuracy"].values()), statistics.fmean(history[-1]["accuracy"].values())


def _reflections(result: DemoResult) -> str:
    rows = ["| after step | action | skill | retired |", "|---|---|---|---|"]
    for r in result.reflections:
        rows.append(f"| {r['step']} | {r.get('action') or 'none'} | {r.get('skill') or '-'} | "
                    f"{', '.join(r.get('retired') or []) or '-'} |")
    return "\n".join(rows)


def _pool(result: DemoResult) -> str:
    rows = ["| member | kind | cost | description |", "|---|---|---|---|"]
    rows += [f"| {m.name} | {m.kind} | {m.cost:g} | {m.description} |" for m in result.pool.members]
    return "\n".join(rows)


def _faulty(result: DemoResult) -> str:
    shares = [f"round {r.round + 1}: {r.faulty_share:.2f}" for r in result.rounds if r.faulty_share is not None]
    return "; ".join(shares)


def _query(answer: Any, number: int) -> list[str]:
    groups = sorted({g for r in answer.next for g in r.contributions})
    head = "| member | probability | " + " | ".join(groups) + " |"
    rows = [f"### Query {number}: {answer.task}", "", "Next agent (score contribution of each feature group):", "",
            head, "|" + "---|" * (len(groups) + 2)]
    for r in answer.next:
        rows.append(f"| {r.name} | {r.probability:.3f} | " + " | ".join(f"{r.contributions.get(g, 0.0):+.3f}"
                                                                      for g in groups) + " |")
    if answer.team is None:
        return [*rows, "", "No team recommended: the run's calling trees hold too few teams to learn teams from.", ""]
    team = " + ".join(f"{m.name} ({m.probability:.2f})" for m in answer.team.nodes) or "none"
    return [*rows, "", f"Recommended team (probability of each member): {team}.", ""]


def write_report(result: DemoResult, out: Path) -> Path:
    """Write the plots and ``report.md`` into `out`; returns the report's path."""
    cur = result.curriculum
    plot_curves(cur.history, out / "learning_curves.png")
    plot_curriculum(cur.curriculum, result.skills, out / "curriculum.png")
    plot_rounds({"learned team choice": result.rounds}, out / "success_per_round.png",
                title="Tasks solved per round while the recommender learns")
    first = result.queries[0] if result.queries and result.queries[0].team is not None else None
    if first is not None and first.team is not None:
        plot_team([m.name for m in first.team.nodes], out / "team.png", title=f"Recommended team: {first.task[:70]}",
                  utilities={m.name: m.probability for m in first.team.nodes}, compatibility=first.team.graph())
    before, after = learnable_gain(cur.history)
    lines = [
        "# coachgraph demo", "",
        f"One run of `coachgraph demo`: {result.seconds / 60:.1f} minutes on {result.cores} cores. Every number "
        "below comes from this run.", "",
        "## 1. A student taught by a curriculum", "",
        f"SmolLM2-135M trained for {cur.steps_done} steps by the `{cur.curriculum.teacher}` curriculum, held-out "
        f"accuracy on {len(result.skills)} skills it can learn: mean {before:.2f} before, {after:.2f} after "
        f"({after - before:+.2f}).", "", mastery_table(cur.history), "",
        "![learning curves](learning_curves.png)", "",
        f"Problems the curriculum chose per skill: {practice_counts(cur.curriculum)}.", "",
        "![curriculum over time](curriculum.png)", "",
        "## 2. The skill library grew by reflection", "",
        f"{result.skills_before} skills before the run, {result.skills_after} after.", "", _reflections(result), "",
        "## 3. The recommender learns to pick teams from its own calling trees", "",
        "The pool (what the recommender reads about each member):", "", _pool(result), "",
        rounds_table(result.rounds), "",
        f"Share of team places held by the pool's faulty members, per round: {_faulty(result)}.", "",
        *[f"- retrained after {r['after_tasks']} tasks on {r['traces']} calling trees ({r['seconds']:.1f} s)"
          for r in result.retrains], "",
        "![success per round](success_per_round.png)", "", "A solved task's calling tree:", "",
        "![calling tree](calltree.png)", "",
        "## 4. Recommendation queries", "",
        *[line for i, answer in enumerate(result.queries) for line in _query(answer, i + 1)],
        "![recommended team](team.png)" if first is not None else "", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
