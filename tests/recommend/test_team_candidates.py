"""The teams the team recommender weighs: what history suggests for a query, and how a team is told apart."""

from __future__ import annotations

import numpy as np

from coachgraph.recommend.structure import ENTRY
from coachgraph.recommend.team import TeamConfig
from coachgraph.recommend.teamfeatures import SET_FEATURES, neighbours, set_features
from coachgraph.recommend.teamrec import candidate_teams
from coachgraph.recommend.teamstats import TeamHistory, team_stats_from_dict


def _history(runs: list[tuple[str, str, list[str], list[float]]]) -> TeamHistory:
    """Training teams run as (root label, task, members called from the entry in turn, task vector)."""
    doc = {"tasks": [task for _, task, _, _ in runs], "roots": [root for root, _, _, _ in runs],
           "teams": [{"members": sorted(team), "edges": [[ENTRY, m] for m in team]} for _, _, team, _ in runs]}
    vectors = np.array([v for *_, v in runs], np.float32)
    return TeamHistory(team_stats_from_dict(doc), vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


# Two callers get the same kind of task; each runs its own team for it.
HISTORY = _history([
    ("shop", "refund an order", ["lookup", "refund"], [1.0, 0.1]),
    ("shop", "refund a parcel", ["lookup", "refund"], [1.0, 0.2]),
    ("shop", "refund a gift", ["lookup", "refund", "email"], [1.0, 0.3]),
    ("bank", "refund a charge", ["ledger", "reverse"], [1.0, 0.15]),
    ("bank", "refund a fee", ["ledger", "reverse"], [1.0, 0.25]),
])
QUERY = np.array([1.0, 0.12], np.float32) / np.linalg.norm([1.0, 0.12])


def test_the_callers_own_history_is_looked_up_beside_the_nearest_tasks() -> None:
    near = neighbours(HISTORY, QUERY, 2, root="bank")
    assert near.teams[0].members == {"lookup", "refund"}  # the nearest task of all was the shop's
    assert [t.members for t in near.kin] == [{"ledger", "reverse"}] * 2  # the bank's own, nearest first
    assert near.usual == [frozenset({"ledger", "reverse"})]
    shop = neighbours(HISTORY, QUERY, 2, root="shop")
    assert frozenset({"lookup", "refund"}) in shop.usual and frozenset({"lookup", "refund", "email"}) in shop.usual
    assert neighbours(HISTORY, QUERY, 2, root="unseen").kin == []


def test_candidate_teams_hold_what_the_caller_ran_though_its_members_rank_low() -> None:
    near = neighbours(HISTORY, QUERY, 2, root="bank")
    ranked = ["lookup", "refund", "email", "ledger", "reverse"]
    teams = candidate_teams(ranked, near, TeamConfig(max_size=3), pool=5, stats=HISTORY.stats)
    assert ("ledger", "reverse") in teams
    assert all(len(t) <= 3 for t in teams)


def test_a_team_the_caller_never_ran_is_told_apart_from_its_own() -> None:
    near = neighbours(HISTORY, QUERY, 2, root="bank")
    prob = {"lookup": 0.5, "refund": 0.5, "ledger": 0.5, "reverse": 0.5}
    own, other = (set_features(HISTORY.stats, near, team, prob, [(ENTRY, m) for m in team], 0.0)
                  for team in (["ledger", "reverse"], ["lookup", "refund"]))
    for name in ("root_exact", "root_member_min", "kin_jaccard"):
        i = SET_FEATURES.index(name)
        assert own[i] > other[i], name


def test_a_supervisor_without_its_workers_is_told_apart_and_dropped_from_a_candidate() -> None:
    runs = [("desk", f"task {i}", ["sup", "worker"], [1.0, i / 10]) for i in range(4)]
    history = _history(runs)
    history.stats.edge[("sup", "worker")] += 4  # the supervisor called its worker in every team
    history.stats.calls_out["sup"] += 4
    near = neighbours(history, QUERY, 2, root="desk")
    teams = candidate_teams(["sup", "other", "worker"], near, TeamConfig(max_size=2), pool=3, stats=history.stats)
    assert ("sup", "other") in teams and ("other",) in teams  # the silent supervisor dropped
    prob = {"sup": 0.5, "other": 0.5, "worker": 0.5}
    with_worker = set_features(history.stats, near, ["sup", "worker"], prob, [(ENTRY, "sup"), ("sup", "worker")], 0.0)
    alone = set_features(history.stats, near, ["sup", "other"], prob, [(ENTRY, "sup"), (ENTRY, "other")], 0.0)
    i = SET_FEATURES.index("habit_min")
    assert with_worker[i] > alone[i]
