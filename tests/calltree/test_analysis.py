"""Analysis functions on calling trees, plus the doctests of the pure helpers."""

from __future__ import annotations

import doctest

import pytest

from coachgraph.calltree import analysis
from coachgraph.calltree.analysis import (
    agent_reliability,
    decision_points,
    latency_stats,
    sibling_cooccurrence,
    transition_counts,
)
from coachgraph.calltree.schema import CallNode, CallTree, DecisionPoint
from tests.calltree._trees import sample_tree


def test_doctests() -> None:
    result = doctest.testmod(analysis)
    assert result.attempted >= 8 and result.failed == 0


def test_transitions_and_siblings() -> None:
    G = sample_tree().graph()
    assert transition_counts(G) == {("planner", "search"): 1, ("planner", "critic"): 1,
                                    ("critic", "calc"): 1}
    assert sibling_cooccurrence(G) == {("critic", "search"): 1}


def test_reliability_with_beta_prior() -> None:
    graphs = [sample_tree("a", True).graph(), sample_tree("b", False).graph(),
              sample_tree("c", None).graph()]
    result = agent_reliability(graphs, alpha=1.0, beta=1.0)
    assert result["critic"] == {"trials": 2.0, "successes": 1.0, "mean": 0.5}
    assert agent_reliability(graphs[:1], alpha=2.0, beta=0.0)["planner"]["mean"] == 1.0


def test_latency() -> None:
    stats = latency_stats(sample_tree().graph())
    assert stats["calc"] == {"count": 1.0, "mean": 1.0, "p50": 1.0, "p95": 1.0, "max": 1.0}
    assert set(stats) == {"planner", "search", "critic", "calc"}


def test_decision_points_prefers_stated_decisions() -> None:
    tree = sample_tree()
    derived = decision_points(tree)
    assert [(d.node, d.chosen) for d in derived] == [("root", "search"), ("root", "critic"),
                                                     ("c2", "calc")]
    stated = DecisionPoint(node="root", candidates=["a", "b"], chosen="a")
    tree.decisions = [stated]
    assert decision_points(tree.graph()) == [stated]


def test_schema_rejects_broken_trees() -> None:
    node = CallNode(id="x", trace_id="t", parent_id="missing")
    with pytest.raises(ValueError, match="unknown parent"):
        CallTree(trace_id="t", nodes=[node])
    loop = [CallNode(id="a", trace_id="t", parent_id="b"),
            CallNode(id="b", trace_id="t", parent_id="a")]
    with pytest.raises(ValueError, match="cycle"):
        CallTree(trace_id="t", nodes=loop)
    with pytest.raises(ValueError, match="newer"):
        CallTree(trace_id="t", schema_version=99)
