"""What a finished orchestrate run leaves in its folder: per-task records, per-round summaries,
plots (success per round, a team as a graph, a team's calling tree) and a report."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from coachgraph.agents.pool import PoolFile
from coachgraph.calltree.render import render_png
from coachgraph.calltree.stores import open_store
from coachgraph.graphs.orchestrate.intervals import wilson

if TYPE_CHECKING:
    from coachgraph.graphs.orchestrate.config import OrchestrateConfig
    from coachgraph.graphs.orchestrate.context import OrchestrateContext
    from coachgraph.graphs.orchestrate.run import OrchestrateResult

__all__ = ["RoundSummary", "plot_rounds", "plot_team", "round_summaries", "rounds_table", "write_outputs"]


@dataclass(frozen=True, slots=True)
class RoundSummary:
    """How one round went."""

    round: int
    tasks: int
    solved: int
    success: float
    low: float
    high: float
    """95% Wilson interval of the success rate."""
    cost: float
    """Total cost of the members called."""
    cost_per_solved: float | None
    seconds_per_task: float
    faulty_share: float | None = None
    """Share of team places held by members known to be faulty (when they are known)."""


def round_summaries(results: Sequence[Mapping[str, Any]], pool: PoolFile,
                    faulty: Sequence[str] = ()) -> list[RoundSummary]:
    """One summary per round of `results` (task records), in round order."""
    rounds: dict[int, list[Mapping[str, Any]]] = {}
    for record in results:
        rounds.setdefault(int(record["round"]), []).append(record)
    out = []
    for number, records in sorted(rounds.items()):
        solved = sum(bool(r["success"]) for r in records)
        cost = sum(float(r["cost"]) for r in records)
        places = [m for r in records for m in r["team"]]
        share = sum(m in faulty for m in places) / len(places) if faulty and places else None
        out.append(RoundSummary(number, len(records), solved, solved / len(records), *wilson(solved, len(records)),
                                cost=cost, cost_per_solved=cost / solved if solved else None,
                                seconds_per_task=statistics.fmean(float(r["seconds"]) for r in records),
                                faulty_share=share))
    return out


def rounds_table(rounds: Sequence[RoundSummary]) -> str:
    """Markdown table of the rounds.

    >>> print(rounds_table([RoundSummary(0, 4, 3, 0.75, 0.3, 0.95, 6.0, 2.0, 0.5)]))
    | round | solved | success (95% interval) | cost per solved task | seconds per task |
    |---|---|---|---|---|
    | 1 | 3 / 4 | 0.75 (0.30-0.95) | 2.00 | 0.50 |
    """
    rows = ["| round | solved | success (95% interval) | cost per solved task | seconds per task |",
            "|---|---|---|---|---|"]
    for r in rounds:
        per = "-" if r.cost_per_solved is None else f"{r.cost_per_solved:.2f}"
        rows.append(f"| {r.round + 1} | {r.solved} / {r.tasks} | {r.success:.2f} ({r.low:.2f}-{r.high:.2f}) "
                    f"| {per} | {r.seconds_per_task:.2f} |")
    return "\n".join(rows)


def plot_rounds(series: Mapping[str, Sequence[RoundSummary]], path: Path, title: str = "Success per round") -> Path:
    """Success rate per round with 95% intervals, one line per series (e.g. per policy), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for offset, (name, rounds) in enumerate(series.items()):
        xs = [r.round + 1 + 0.06 * (offset - (len(series) - 1) / 2) for r in rounds]
        ys = [r.success for r in rounds]
        errors = [[max(y - r.low, 0.0) for y, r in zip(ys, rounds, strict=True)],
                  [max(r.high - y, 0.0) for y, r in zip(ys, rounds, strict=True)]]
        ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=4, label=name)
    ax.set(xlabel="round", ylabel="tasks solved (share)", ylim=(-0.02, 1.02), title=title)
    ax.set_xticks(sorted({r.round + 1 for rounds in series.values() for r in rounds}))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_team(order: Sequence[str], path: Path, *, title: str, utilities: Mapping[str, float] | None = None,
              compatibility: nx.Graph | None = None) -> Path:
    """A team as a graph: the supervisor hands off to each member in call order; dashed edges are
    the learned compatibility between members (when known); node labels carry utilities."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    g = nx.DiGraph()
    g.add_node("supervisor")
    for i, member in enumerate(order):
        g.add_edge("supervisor", member, label=f"{i + 1}")
    pos = {"supervisor": (0.0, 1.0)} | {m: (i - (len(order) - 1) / 2, 0.0) for i, m in enumerate(order)}
    fig, ax = plt.subplots(figsize=(max(5.0, 2.2 * len(order)), 3.6))
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=["#f0ad4e"] + ["#4c9be8"] * len(order), node_size=1800)
    labels = {"supervisor": "supervisor"} | {m: m + (f"\n{utilities[m]:.2f}" if utilities and m in utilities else "")
                                             for m in order}
    nx.draw_networkx_labels(g, pos, labels, ax=ax, font_size=8)
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, node_size=1800)
    nx.draw_networkx_edge_labels(g, pos, nx.get_edge_attributes(g, "label"), ax=ax, font_size=8)
    pairs = [(a, b) for a, b in (compatibility.subgraph(order).edges() if compatibility is not None else ())]
    nx.draw_networkx_edges(nx.Graph(pairs), pos, ax=ax, edgelist=pairs, style="dashed", edge_color="#999999",
                           node_size=1800)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _most_common_team(results: Sequence[Mapping[str, Any]], round_: int) -> list[str]:
    teams = Counter(tuple(r["team"]) for r in results if r["round"] == round_)
    return list(teams.most_common(1)[0][0]) if teams else []


def _calltree_png(store: str, results: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """The calling tree of the last solved task (else the last task)."""
    chosen = next((r for r in reversed(results) if r["success"]), results[-1] if results else None)
    if chosen is None:
        return None
    with open_store(store) as opened:
        tree = opened.get_tree(chosen["trace_id"])
    return render_png(tree, path).path if tree is not None else None


def write_outputs(result: OrchestrateResult, ctx: OrchestrateContext, config: OrchestrateConfig) -> dict[str, Path]:
    """Write ``results.jsonl``, ``rounds.json``, ``success_per_round.png``, ``team.png``,
    ``calltree.png`` and ``report.md`` into the run folder."""
    out = result.run_dir
    paths = {"results": out / "results.jsonl", "rounds": out / "rounds.json"}
    paths["results"].write_text("".join(json.dumps(r) + "\n" for r in result.results), encoding="utf-8")
    paths["rounds"].write_text(json.dumps([asdict(r) for r in result.rounds], indent=2), encoding="utf-8")
    paths["success"] = plot_rounds({config.policy: result.rounds}, out / "success_per_round.png")
    last = result.rounds[-1].round if result.rounds else 0
    team = _most_common_team(result.results, last)
    paths["team"] = plot_team(team, out / "team.png", title=f"The team chosen most often in round {last + 1}",
                              compatibility=ctx.recommender.compatibility())
    tree = _calltree_png(result.store, result.results, out / "calltree.png")
    if tree is not None:
        paths["calltree"] = tree
    retrains = "\n".join(f"- after {r['after_tasks']} tasks: trained on {r['traces']} traces in {r['seconds']:.1f} s"
                         for r in result.retrains) or "- none"
    lines = ["# Orchestrate run", "", f"Policy `{config.policy}`, seed {config.seed}, {config.rounds} rounds of "
             f"{config.tasks_per_round} tasks, teams of {config.team_size} from pool `{ctx.pool.name}`.", "",
             "## Success per round", "", rounds_table(result.rounds), "", "## Recommender retrainings", "", retrains, "",
             f"Most frequent team in the last round: {' -> '.join(team) or '-'}.", "",
             "Plots: `success_per_round.png`, `team.png`, `calltree.png`."]
    paths["report"] = out / "report.md"
    paths["report"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths
