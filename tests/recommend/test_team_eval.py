"""The system-level evaluation: every team method on the same test traces, none told the team's size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.schema import CallNode, CallTree, PoolEntry
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.recommend import team_baselines
from coachgraph.recommend.catalog import catalog_from_store
from coachgraph.recommend.evaluate import run_benchmark, split_traces
from coachgraph.recommend.evaluate_team import TEAM_METRICS, evaluate_teams, team_table
from coachgraph.recommend.fitting import fit_recommender
from coachgraph.recommend.recommender import Recommender
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import build_stats
from coachgraph.recommend.team_baselines import LEARNED_TEAM, TEAM_METHODS
from coachgraph.recommend.teamfit import learns_teams
from coachgraph.recommend.teammodel import TeamModelConfig
from coachgraph.recommend.teamrec import TeamModel
from tests.fakes import HashEmbeddings
from tests.recommend._trees import FAST, POOL, make_trees


def test_every_method_is_scored_on_the_same_traces_and_the_learned_one_leads(tmp_path: Path) -> None:
    planner = PoolEntry(name="planner", kind="agent", description="Plans the steps of a task")
    with SQLiteCallTreeStore(tmp_path / "s.sqlite") as store:  # the pool names every member
        store.put_trees([t.model_copy(update={"pool": [*t.pool, planner]}) for t in make_trees(90)])
        train, test = split_traces(store.trace_ids(), 0)
        rec = fit_recommender(store, train, HashEmbeddings(dims=32), FAST)
        result = evaluate_teams(rec, store, train, test)
        failed = sum(t.success is False for t in store.iter_trees(test))
    methods = result["methods"]
    assert failed > 0  # a failed team is no example of the team to pick: those traces are not scored
    assert set(methods) == set(TEAM_METHODS) and result["traces"]["test"] == len(test) - failed
    for row in methods.values():
        for metric in TEAM_METRICS[:-1]:
            lo, hi = row["ci95"][metric]
            assert 0.0 <= lo <= row[metric] <= hi <= 1.0
    ours = methods[LEARNED_TEAM]
    assert ours["member_f1"] == 1.0 and ours["edge_f1"] == 1.0 and ours["connected"] == 1.0
    assert methods["popularity"]["member_f1"] < 1.0  # one size for every task cannot fit teams of 2 and 3
    assert 2.0 < ours["size"] < 3.0  # sizes vary per task; the mean lies between them
    margin = result["margins"]["popularity"]["member_f1"]  # paired: differences on the same traces
    assert np.isclose(margin["mean"], ours["member_f1"] - methods["popularity"]["member_f1"])
    assert margin["ci95"][0] > 0
    table = team_table(result)
    assert table.startswith("| method | member F1 |") and f"| {LEARNED_TEAM} minus |" in table


def test_a_store_without_teams_of_two_is_skipped_with_the_reason(tmp_path: Path) -> None:
    trees = [CallTree(trace_id=f"t{i}", task=f"Compute {i} times seven", pool=list(POOL),
                      nodes=[CallNode(id="c", trace_id=f"t{i}", kind="tool", name="calculator", tool="calculator")])
             for i in range(20)]
    with SQLiteCallTreeStore(tmp_path / "s.sqlite") as store:
        store.put_trees(trees)
        ids = store.trace_ids()
        catalog = catalog_from_store(store, store.iter_trees(), HashEmbeddings(dims=32))
        rec = Recommender(catalog, build_stats(store.iter_trees(ids)), Scorer(ScorerConfig(n_features=1)), {}, FAST)
        assert not learns_teams(trees)
        result = evaluate_teams(rec, store, ids[:16], ids[16:])
    assert result == {"skipped": "no trace has a team of two or more members"}
    assert "skipped (no trace has a team" in team_table(result)


def test_folds_test_every_trace_once_and_pool_the_figures(tmp_path: Path) -> None:
    """With three folds every trace is held out once: the system level scores every team trace
    that did not fail, in three splits, and the agent level every decision of every trace."""
    planner = PoolEntry(name="planner", kind="agent", description="Plans the steps of a task")
    with SQLiteCallTreeStore(tmp_path / "s.sqlite") as store:
        store.put_trees([t.model_copy(update={"pool": [*t.pool, planner]}) for t in make_trees(60)])
        failed = sum(t.success is False for t in store.iter_trees())
        one = run_benchmark(store, HashEmbeddings(dims=32), FAST, methods=["popularity", "coach"])
        three = run_benchmark(store, HashEmbeddings(dims=32), FAST, methods=["popularity", "coach"], folds=3)
    assert (one["folds"], three["folds"]) == (1, 3)
    assert one["traces"] == {"train": 48, "test": 12} and three["traces"] == {"train": 40, "test": 60}
    system = three["system_level"]
    assert system["splits"] == {"scored": 3, "skipped": 0} and system["traces"]["test"] == 60 - failed
    assert three["agent_level"]["coach"]["n"] == three["decisions"]["test"] > 4 * one["decisions"]["test"]
    assert system["methods"][LEARNED_TEAM]["member_f1"] > system["methods"]["popularity"]["member_f1"]


def test_the_learned_team_method_is_featurised_from_every_training_trace(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The queries' features count failed runs too (the recommender's statistics do), so the team
    model's training traces must be featurised from the same traces, not from the team examples."""
    fitted_on: list[list[str]] = []
    real = team_baselines.fit_team_model

    def spy(rec: Recommender, store: CallTreeStore, ids: Sequence[str], config: TeamModelConfig) -> TeamModel:
        fitted_on.append(list(ids))
        return real(rec, store, ids, config)

    monkeypatch.setattr(team_baselines, "fit_team_model", spy)
    with SQLiteCallTreeStore(tmp_path / "s.sqlite") as store:
        store.put_trees(make_trees(60))
        train, test = split_traces(store.trace_ids(), 0)
        failed = [t.trace_id for t in store.iter_trees(train) if t.success is False]
        rec = fit_recommender(store, train, HashEmbeddings(dims=32), FAST)
        fitted_on.clear()
        evaluate_teams(rec, store, train, test, methods=[LEARNED_TEAM])
    assert failed and fitted_on == [list(train)]
