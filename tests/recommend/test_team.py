"""The learned team recommender on trees with known teams: members, size and call structure are
learned, limits are kept, the model survives its file, and the supervisor follows the structure."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from coachgraph.calltree.schema import CallNode, CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.errors import InputError
from coachgraph.recommend.checkpoint import ModelFileError, load_recommender, save_recommender
from coachgraph.recommend.fingerprint import StoreFingerprint, store_fingerprint
from coachgraph.recommend.fitting import fit_recommender
from coachgraph.recommend.recommender import Recommender
from coachgraph.recommend.structure import ENTRY, team_structure
from coachgraph.recommend.supervisor import build_supervisor
from coachgraph.recommend.team import Team, TeamConfig
from coachgraph.recommend.teamfit import fit_team_model, team_query
from coachgraph.recommend.teamrec import TeamQuery, call_order, recommend_team
from coachgraph.recommend.teamstats import (
    build_team_stats,
    team_stats_from_dict,
    team_stats_to_dict,
)
from tests.fakes import HashEmbeddings
from tests.recommend._trees import EMB, FAST, PLANS, make_store, make_tree

WEATHER = "What is the weather in Lima tomorrow?"
MATH = "Compute 12 times seven"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recommender, StoreFingerprint]:
    """A recommender fitted on 60 trees of three plans (teams of two and three members), and what
    its store held."""
    with make_store(tmp_path_factory.mktemp("team") / "s.sqlite") as store:
        return fit_recommender(store, store.trace_ids(), HashEmbeddings(dims=32), FAST), store_fingerprint(store)


@pytest.fixture(scope="module")
def fitted(trained: tuple[Recommender, StoreFingerprint]) -> Recommender:
    return trained[0]


def _team(rec: Recommender, task: str, limits: TeamConfig | None = None) -> Team:
    assert rec.team is not None
    return recommend_team(rec, rec.team, TeamQuery("q", task, "planner"), limits or TeamConfig())


def _edges(team: Team) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in team.edges}


def test_members_size_and_call_structure_are_learned(fitted: Recommender) -> None:
    weather, math = _team(fitted, WEATHER), _team(fitted, MATH)
    assert set(weather.names) == {"planner", *PLANS["weather"][1]}
    assert _edges(weather) == {(ENTRY, "planner"), ("planner", "geocode"), ("geocode", "weather_api")}
    assert set(math.names) == {"planner", "calculator"}  # a smaller team: nobody said how large
    assert _edges(math) == {(ENTRY, "planner"), ("planner", "calculator")}
    assert weather.connected and math.connected
    assert all(0.0 < m.probability <= 1.0 and "team" in m.contributions for m in weather.nodes)
    assert all(0.0 < e.probability <= 1.0 for e in weather.edges)


def test_size_and_budget_limits_are_kept(fitted: Recommender) -> None:
    one = _team(fitted, WEATHER, TeamConfig(max_size=1))
    assert len(one.names) == 1 and one.connected
    cheap = _team(fitted, WEATHER, TeamConfig(costs={"weather_api": 5.0, "geocode": 1.0}, budget=2.0))
    assert "weather_api" not in cheap.names and cheap.names and cheap.connected


def test_the_query_of_a_trace_carries_nothing_of_its_team() -> None:
    """What a trace is asked with (task, caller, stated pool) is the same with its calls removed."""
    with SQLiteCallTreeStore(":memory:") as store:
        import random

        tree = make_tree(0, "weather", random.Random(0))
        bare = tree.model_copy(update={"nodes": tree.nodes[:1]})
        assert team_structure(tree).members and not team_structure(bare).members - {"planner"}
        assert team_query(store, tree, ["x"]) == team_query(store, bare, ["x"])


def test_too_few_teams_are_refused(tmp_path: Path) -> None:
    with make_store(tmp_path / "s.sqlite", n=6) as store:
        rec = fit_recommender(store, store.trace_ids(), HashEmbeddings(dims=32), FAST)
        assert rec.team is None
        with pytest.raises(InputError, match="too few"):
            fit_team_model(rec, store, store.trace_ids())


def test_the_team_recommender_survives_its_model_file(trained: tuple[Recommender, StoreFingerprint],
                                                       tmp_path: Path) -> None:
    fitted, content = trained
    path = tmp_path / "recommender.json"
    save_recommender(fitted, path, embeddings=EMB, store=content)
    loaded, _ = load_recommender(path, HashEmbeddings(dims=32), EMB)
    for task in (WEATHER, MATH):
        before, after = _team(fitted, task), _team(loaded, task)
        assert before.names == after.names and _edges(before) == _edges(after)
        assert after.score == pytest.approx(before.score, abs=1e-5)
    weights = path.with_name(json.loads(path.read_text())["tensors"]["file"])
    tensors = load_file(weights)
    tensors["team.edges.linear.weight"] = torch.zeros(1, 3)
    save_file(tensors, weights)
    doc = json.loads(path.read_text())
    doc["tensors"]["sha256"] = __import__("hashlib").sha256(weights.read_bytes()).hexdigest()
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="team.edges") as exc:
        load_recommender(path, HashEmbeddings(dims=32), EMB)
    assert exc.value.reason == "corrupt"


def test_a_team_model_of_another_feature_set_is_retrained_not_refused(trained: tuple[Recommender, StoreFingerprint],
                                                                      tmp_path: Path) -> None:
    """A file whose team features differ (or, from an older release, are not named) is one that
    training again replaces, as one of another agent-level feature set is."""
    fitted, content = trained
    path = tmp_path / "recommender.json"
    save_recommender(fitted, path, embeddings=EMB, store=content)
    doc = json.loads(path.read_text())
    for features, match in ((None, "team.features.members: not recorded"),
                            ({**doc["team"]["features"], "sets": doc["team"]["features"]["sets"][:-1]}, "adds")):
        changed = {**doc, "team": {k: v for k, v in doc["team"].items() if k != "features"}}
        if features is not None:
            changed["team"]["features"] = features
        path.write_text(json.dumps(changed))
        with pytest.raises(ModelFileError, match=match) as exc:
            load_recommender(path, HashEmbeddings(dims=32), EMB)
        assert exc.value.reason == "features" and exc.value.retrainable


def test_handoffs_make_agent_to_agent_edges() -> None:
    """A supervisor's handoff is an edge to the agent it hands to, wherever that agent runs."""
    nodes = [CallNode(id="r", trace_id="t", kind="chain", name="graph"),
             CallNode(id="s", parent_id="r", trace_id="t", kind="agent", agent="supervisor"),
             CallNode(id="h", parent_id="s", trace_id="t", kind="handoff", agent="supervisor",
                      attributes={"to_agent": "coder"}),
             CallNode(id="c", parent_id="r", trace_id="t", kind="agent", agent="coder"),
             CallNode(id="x", parent_id="c", trace_id="t", kind="tool", agent="coder", tool="run_python"),
             CallNode(id="s2", parent_id="r", trace_id="t", kind="agent", agent="supervisor")]
    team = team_structure(CallTree(trace_id="t", nodes=nodes))
    assert team.members == {"supervisor", "coder", "run_python"}
    assert team.edges == {(ENTRY, "supervisor"), ("supervisor", "coder"), ("coder", "run_python")}


def test_supervisor_runs_members_in_call_order(fitted: Recommender) -> None:
    team = _team(fitted, WEATHER)
    members = {name: (lambda state, n=name: {"messages": [n]}) for name in team.names}
    out = build_supervisor(team, members).compile().invoke({"task": WEATHER, "messages": []})
    assert out["messages"] == ["planner", "geocode", "weather_api"]


def _ordered_tree(trace_id: str, order: tuple[str, ...], success: bool) -> CallTree:
    nodes = [CallNode(id="r", trace_id=trace_id, kind="chain", name="team")]
    nodes += [CallNode(id=m, parent_id="r", trace_id=trace_id, kind="agent", agent=m) for m in order]
    return CallTree(trace_id=trace_id, nodes=nodes, task="Leo had 52 marbles", success=success)


def test_members_are_ordered_as_the_teams_that_worked_called_them() -> None:
    """Two runs that handed the word problem to the calculator first failed, one that parsed it
    first worked: the parser comes first, also in statistics saved and read back."""
    trees = [_ordered_tree("f1", ("calc", "parser"), False), _ordered_tree("f2", ("calc", "parser"), False),
             _ordered_tree("ok", ("parser", "calc"), True)]
    stats = build_team_stats(trees)
    edges = [(ENTRY, "calc"), (ENTRY, "parser")]
    assert call_order(["calc", "parser"], edges, stats) == ["parser", "calc"]
    reread = team_stats_from_dict(team_stats_to_dict(stats))
    assert call_order(["calc", "parser"], edges, reread) == ["parser", "calc"]
    assert stats.member["calc"] == reread.member["calc"] == 3


def test_members_are_ordered_by_how_they_came_with_each_other() -> None:
    """The calculator comes first in its teams with a checker, the parser last in its teams with a
    reader, and the one team with both called the parser first: a recommended parser-and-calculator
    team starts with the parser, though the calculator's mean place over all its teams is earlier,
    also in statistics read back."""
    trees = [_ordered_tree(f"c{i}", ("calc", "checker"), True) for i in range(3)]
    trees += [_ordered_tree(f"r{i}", ("reader", "parser"), True) for i in range(3)]
    trees.append(_ordered_tree("p", ("parser", "calc"), True))
    stats = build_team_stats(trees)
    assert (stats.mean_place("calc"), stats.mean_place("parser")) == (0.25, 0.75)
    edges = [(ENTRY, "calc"), (ENTRY, "parser")]
    for known in (stats, team_stats_from_dict(team_stats_to_dict(stats))):
        assert call_order(["calc", "parser"], edges, known) == ["parser", "calc"]


def test_two_fits_of_the_team_model_give_the_same_weights(trained: tuple[Recommender, StoreFingerprint],
                                                          tmp_path: Path) -> None:
    """The member scorer with item ids drops ids at random while it trains; those draws come from
    the training seed, so the same traces give the same model (and benchmark figures) every time."""
    fitted, _ = trained
    config = replace(FAST.team, arch="seq", arch_choices=("seq",))
    assert config.train.epochs > 1
    torch.manual_seed(1)
    with make_store(tmp_path / "s.sqlite") as store:
        first = fit_team_model(fitted, store, store.trace_ids(), config)
        torch.manual_seed(2)  # what other code drew before must not matter
        second = fit_team_model(fitted, store, store.trace_ids(), config)
    assert first.members.config.arch == "seq"
    a, b = first.members.state_dict(), second.members.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_member_scorer_reads_what_its_held_out_folds_chose(trained: tuple[Recommender, StoreFingerprint],
                                                              tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Whether the member scorer reads the agent-level `wording` columns is the setting of lower
    held-out log-loss; a query's unread columns add nothing to any member's score."""
    fitted, _ = trained
    with make_store(tmp_path / "s.sqlite") as store, caplog.at_level(logging.INFO, "coachgraph.recommend.teamfit"):
        chosen = fit_team_model(fitted, store, store.trace_ids(), FAST.team)
        losses = {tuple(r.args[1]): r.args[2] for r in caplog.records if r.msg.startswith("team members, held-out")}
        assert set(losses) == {("wording",), ()} and chosen.config.unread == min(losses, key=losses.__getitem__)
        for unread in FAST.team.unread_choices:
            config = replace(FAST.team, unread=unread, unread_choices=(unread,))
            model = fit_team_model(fitted, store, store.trace_ids(), config)
            team = recommend_team(fitted, model, TeamQuery("q", WEATHER, "planner"), TeamConfig())
            wording = [m.contributions["wording"] for m in team.nodes]
            assert model.config.unread == unread and team.nodes
            assert all(w == 0.0 for w in wording) if unread else any(w != 0.0 for w in wording)
