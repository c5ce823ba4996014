"""System-level evaluation: every team method on the same test traces, none told the team's size.

Every method is fitted on the training traces and asked, for each test trace whose team is one
to recommend (`teamfit.team_examples`: failed runs are left out where successes are recorded), for
the team of its task (within the pool the trace states, else the whole catalogue) and its call
structure. Metrics per test trace: member F1 and Jaccard, directed edge F1 (call edges between
members and from the team's caller, `structure.ENTRY`), whether the members are exactly the
true ones, and whether the predicted team is one call graph (every member reached from the
caller); with 95% bootstrap intervals over test traces, and the learned recommender's margin
over each method with a paired bootstrap interval (the same resampled traces for both).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.calltree.base import CallTreeStore
from coachgraph.recommend import paper_subgraph  # noqa: F401  (registers its method)
from coachgraph.recommend.recommender import Recommender
from coachgraph.recommend.structure import TeamStructure, reachable, team_structure
from coachgraph.recommend.team_baselines import LEARNED_TEAM, TEAM_METHODS, Prediction, TeamFit
from coachgraph.recommend.teamfit import (
    history_of,
    learns_teams,
    structure_f1,
    team_examples,
    team_query,
)

__all__ = ["MARGIN_METRICS", "TEAM_METRICS", "TeamRows", "bootstrap", "evaluate_teams", "summarise_teams", "team_metrics",
           "team_rows", "team_table"]

logger = logging.getLogger(__name__)

TEAM_METRICS = ("member_f1", "jaccard", "edge_f1", "exact", "connected", "size")
MARGIN_METRICS = ("member_f1", "edge_f1")


def bootstrap(values: np.ndarray, seed: int = 0, resamples: int = 1000) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean (of paired differences, for a margin)."""
    if len(values) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def team_metrics(pred: Prediction, truth: TeamStructure) -> dict[str, float]:
    """The metrics of one predicted team against the true one.

    >>> from coachgraph.recommend.structure import ENTRY
    >>> t = TeamStructure(frozenset({"a", "b"}), frozenset({(ENTRY, "a"), ("a", "b")}))
    >>> team_metrics((("a", "b"), frozenset({(ENTRY, "a"), (ENTRY, "b")})), t)["edge_f1"]
    0.5
    """
    members, edges = pred
    member_f1, edge_f1 = structure_f1((members, edges), truth)
    union = len(set(members) | truth.members)
    return {"member_f1": member_f1, "jaccard": len(set(members) & truth.members) / union if union else 1.0,
            "edge_f1": edge_f1, "exact": float(set(members) == truth.members),
            "connected": float(bool(members) and reachable(members, edges)), "size": float(len(members))}


def _summary(rows: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {m: float(v.mean()) if len(v) else 0.0 for m, v in rows.items()}
    out["ci95"] = {m: list(bootstrap(v, seed)) for m, v in rows.items()}
    return out


@dataclass(slots=True)
class TeamRows:
    """Every team method's metrics per test trace of one split, and the true teams' sizes."""

    per: dict[str, dict[str, np.ndarray]]
    sizes: np.ndarray
    train: int
    test: int


def team_rows(rec: Recommender, store: CallTreeStore, train_ids: Sequence[str], test_ids: Sequence[str],
              seed: int = 0, methods: Sequence[str] | None = None) -> TeamRows | str:
    """Fit every team method on `train_ids` and score each test trace with a team; a string says
    why the split has nothing to score (`evaluate_teams` describes the rest)."""
    train = team_examples(store.iter_trees(train_ids))
    test = team_examples(store.iter_trees(test_ids))
    if not any(len(team_structure(t).members) >= 2 for t in [*train, *test]):
        return "no trace has a team of two or more members"
    if not learns_teams(train) or not test:
        return f"{len(train)} training and {len(test)} test traces with a team are too few"
    fit = TeamFit(rec, store, train, history_of(rec, train), train_ids, seed)
    queries = [team_query(store, t, rec.catalog.names()) for t in test]
    truths = [team_structure(t) for t in test]
    per: dict[str, dict[str, np.ndarray]] = {}
    for name in methods or list(TEAM_METHODS):
        start = time.perf_counter()
        method = TEAM_METHODS[name]()
        method.fit(fit)
        rows = [team_metrics(p, t) for p, t in zip(method.predict(queries), truths, strict=True)]
        per[name] = {m: np.array([r[m] for r in rows]) for m in TEAM_METRICS}
        logger.info("team method %s fitted and evaluated in %.1f s", name, time.perf_counter() - start)
    return TeamRows(per, np.array([len(t.members) for t in truths], np.float64), len(train), len(test))


def summarise_teams(splits: Sequence[TeamRows | str], seed: int = 0) -> dict[str, Any]:
    """The system-level result over the test traces of every split together (the folds of a
    cross-validation each test other traces); ``{"skipped": reason}`` when no split scored any."""
    scored = [s for s in splits if isinstance(s, TeamRows)]
    if not scored:
        return {"skipped": next((s for s in splits if isinstance(s, str)), "no split")}
    per = {name: {m: np.concatenate([s.per[name][m] for s in scored]) for m in TEAM_METRICS} for name in scored[0].per}
    sizes = np.concatenate([s.sizes for s in scored])
    return {"methods": {name: _summary(rows, seed) for name, rows in per.items()},
            "margins": _margins(per, seed), "true_size": float(sizes.mean()),
            "multi_member_share": float((sizes >= 2).mean()),
            "traces": {"train": round(float(np.mean([s.train for s in scored]))), "test": sum(s.test for s in scored)},
            "splits": {"scored": len(scored), "skipped": len(splits) - len(scored)}}


def evaluate_teams(rec: Recommender, store: CallTreeStore, train_ids: Sequence[str], test_ids: Sequence[str],
                   seed: int = 0, methods: Sequence[str] | None = None) -> dict[str, Any]:
    """Fit every team method on `train_ids` and score all on the test traces with a team.

    `rec` is the agent-level recommender fitted on the same training traces (its `coach` scorer
    ranks for the `coach-top` baseline). A store whose traces hold no team of two or more
    members gets ``{"skipped": reason}``.
    """
    return summarise_teams([team_rows(rec, store, train_ids, test_ids, seed, methods)], seed)


def _margins(per: dict[str, dict[str, np.ndarray]], seed: int) -> dict[str, Any]:
    """The learned recommender minus each other method, per metric, with paired bootstrap intervals."""
    if LEARNED_TEAM not in per:
        return {}
    ours = per[LEARNED_TEAM]
    return {name: {m: {"mean": float((ours[m] - rows[m]).mean()), "ci95": list(bootstrap(ours[m] - rows[m], seed))}
                   for m in MARGIN_METRICS}
            for name, rows in per.items() if name != LEARNED_TEAM}


def team_table(result: dict[str, Any]) -> str:
    """The system-level result as markdown (value and 95% interval per metric, then margins)."""
    if "skipped" in result:
        return f"system level: skipped ({result['skipped']})\n"

    def cell(row: dict[str, Any], m: str) -> str:
        lo, hi = row["ci95"][m]
        return f"{row[m]:.3f} [{lo:.3f}, {hi:.3f}]"

    shown = ("member_f1", "jaccard", "edge_f1", "exact", "connected")
    lines = ["| method | member F1 | Jaccard | edge F1 | exact team | connected | mean size |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {name} | " + " | ".join(cell(row, m) for m in shown) + f" | {row['size']:.2f} |"
              for name, row in result["methods"].items()]
    lines += ["", f"true teams: mean size {result['true_size']:.2f}, {result['traces']['test']} test traces, "
                  f"{result['multi_member_share']:.0%} with two or more members"]
    if result["margins"]:
        lines += ["", f"| {LEARNED_TEAM} minus | member F1 | edge F1 |", "|---|---|---|"]
        lines += [f"| {name} | " + " | ".join(f"{row[m]['mean']:+.3f} [{row[m]['ci95'][0]:+.3f}, {row[m]['ci95'][1]:+.3f}]"
                                            for m in MARGIN_METRICS) + " |"
                  for name, row in result["margins"].items()]
    return "\n".join(lines) + "\n"
