"""Handoffs as tracing clients of LangGraph record them: the supervisor's `transfer_to_*` call
is the decision of which agent to hand to, and the agent's later node is its realisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coachgraph.calltree.analysis import decision_points
from coachgraph.calltree.schema import CallNode, CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.recommend.candidates import retrieve
from coachgraph.recommend.catalog import Catalog, CatalogItem, catalog_from_store
from coachgraph.recommend.context import contexts_from_tree, next_context
from coachgraph.recommend.features import FeatureEnv, feature_names, featurize
from coachgraph.recommend.stats import build_stats
from tests.fakes import HashEmbeddings

TASKS = {"Plan a trip with a route map": ["geo_analyst", "travel_team"],
         "Sum up the budget": ["accountant"]}


def _tree(trace: str, task: str, units: list[str]) -> CallTree:
    """A client-shaped run: the graph runs the supervisor, whose tools node hands off, then the unit."""
    nodes = [CallNode(id="g", trace_id=trace, kind="chain", name="coordinator",
                      inputs={"messages": [{"role": "user", "content": task}]})]
    for i, unit in enumerate(units):
        nodes += [
            CallNode(id=f"s{i}", trace_id=trace, parent_id="g", kind="agent", name="supervisor", agent="supervisor"),
            CallNode(id=f"t{i}", trace_id=trace, parent_id=f"s{i}", kind="chain", name="tools", agent="supervisor"),
            CallNode(id=f"h{i}", trace_id=trace, parent_id=f"t{i}", kind="handoff", name=f"transfer_to_{unit}",
                     agent="supervisor", tool=f"transfer_to_{unit}", attributes={"to_agent": unit}),
            CallNode(id=f"u{i}", trace_id=trace, parent_id="g", kind="agent", name=unit, agent=unit),
            CallNode(id=f"c{i}", trace_id=trace, parent_id=f"u{i}", kind="tool", name=f"{unit}_tool",
                     agent=unit, tool=f"{unit}_tool"),
        ]
    return CallTree(trace_id=trace, task=task, nodes=nodes, success=True)


def test_a_handoff_is_the_decision_and_the_agent_it_names_is_not_a_second_one() -> None:
    tree = _tree("r", *next(iter(TASKS.items())))
    decisions = [(d.node, d.kind, d.chosen) for d in decision_points(tree)]
    assert decisions == [("g", "agent", "supervisor"), ("h0", "agent", "geo_analyst"), ("u0", "tool", "geo_analyst_tool"),
                         ("g", "agent", "supervisor"), ("h1", "agent", "travel_team"), ("u1", "tool", "travel_team_tool")]


def test_the_past_of_a_handoff_ends_at_it_in_training_and_in_a_query() -> None:
    tree = _tree("r", *next(iter(TASKS.items())))
    examples = [e for e in contexts_from_tree(tree, decision_points(tree)) if e.context.parent == "handoff:supervisor"]
    assert [e.chosen for e in examples] == ["geo_analyst", "travel_team"]
    second = examples[1].context
    assert second.path == ("supervisor", "geo_analyst", "geo_analyst_tool", "supervisor")
    assert "travel_team" not in second.path + second.siblings + second.ancestors
    asked = next_context(tree, "h1", "agent")
    assert (asked.path, asked.parent, asked.ancestors) == (second.path, second.parent, second.ancestors)


def test_candidates_at_a_handoff_are_the_agents_seen_but_the_one_handing_off(tmp_path: Path) -> None:
    trees = [_tree(f"r{i}", task, units) for i, (task, units) in enumerate(TASKS.items())]
    handed_only = trees[0].model_copy(update={"nodes": [n for n in trees[0].nodes if n.id != "u1" and n.parent_id != "u1"]})
    with SQLiteCallTreeStore(tmp_path / "s.sqlite") as store:
        store.put_trees([handed_only, trees[1]])
        catalog = catalog_from_store(store, store.iter_trees(), HashEmbeddings(dims=16))
    assert "travel_team" in catalog.names("agent")  # named by a handoff alone, as a sub-team can be
    ctx = next_context(trees[0], "h1", "agent")
    found = retrieve(ctx, catalog, build_stats(trees), n=64).names
    assert sorted(found) == ["accountant", "geo_analyst", "travel_team"]


def test_statistics_learn_what_a_handoff_calls_and_which_words_ask_for_it() -> None:
    trees = [_tree(f"r{i}-{j}", task, units) for j in range(2) for i, (task, units) in enumerate(TASKS.items())]
    stats = build_stats(trees)
    assert stats.children_of["handoff:supervisor"] == {"geo_analyst": 2, "travel_team": 2, "accountant": 2}
    assert stats.calls["geo_analyst"] == 2  # the agent's node is its call; the handoff adds none
    assert stats.word_calls[("rout", "geo_analyst")] == 2 and ("rout", "accountant") not in stats.word_calls
    items = [CatalogItem(n, "agent") for n in ("accountant", "geo_analyst", "travel_team")]
    catalog = Catalog(items, HashEmbeddings(dims=16))
    ctx = next_context(_tree("q", "Draw a route map of Lisbon", ["geo_analyst"]), "h0", "agent")
    feats = featurize(FeatureEnv(catalog, stats), ctx, retrieve(ctx, catalog, stats, n=8))
    pmi = feats[:, feature_names().index("wording.word_pmi_max")]
    names = retrieve(ctx, catalog, stats, n=8).names
    assert names[int(np.argmax(pmi))] == "geo_analyst"

