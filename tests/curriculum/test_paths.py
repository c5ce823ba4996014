"""Multi-source multi-sink learning paths: the cover of the weak set, the order, and never a
skill whose prerequisites are unmastered (checked on random graphs and masteries)."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from coachgraph.curriculum.paths import plan_paths
from coachgraph.tasks import PREREQUISITES

ARITHMETIC = nx.DiGraph([(p, s) for s, pres in PREREQUISITES.items() for p in pres])


def test_two_targets_are_covered_with_the_cheapest_paths_first() -> None:
    known = {"add-1d", "sub-1d", "mul-1d"}
    plan = plan_paths(ARITHMETIC, ["mul-2x1", "word-2step"], lambda s: s in known, lambda s: 1.0)
    assert set(plan.order) == set(plan.weak) == {"add-2d", "add-2d-carry", "mul-2x1", "sub-2d", "sub-2d-borrow",
                                                 "order-ops", "word-2step"}
    assert plan.next_skill == "add-2d"
    position = {s: i for i, s in enumerate(plan.order)}
    assert all(position[u] < position[v] for u, v in ARITHMETIC.edges if u in position and v in position)
    assert all(p[-1] in ("mul-2x1", "word-2step") for p in plan.paths)


def test_a_cheap_skill_goes_before_an_expensive_one() -> None:
    graph = nx.DiGraph([("a", "t"), ("b", "t")])
    cost = {"a": 5.0, "b": 1.0, "t": 1.0}
    plan = plan_paths(graph, ["t"], lambda s: False, lambda s: cost[s])
    assert plan.order == ["b", "a", "t"]


def test_nothing_to_learn_once_targets_are_mastered() -> None:
    plan = plan_paths(ARITHMETIC, ["add-2d"], lambda s: s in {"add-2d"}, lambda s: 1.0)
    assert plan.order == [] and plan.next_skill is None


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[nx.DiGraph, set[str], list[str]]:
    n = draw(st.integers(2, 9))
    nodes = [f"s{i}" for i in range(n)]
    edges = [(nodes[i], nodes[j]) for i in range(n) for j in range(i + 1, n) if draw(st.booleans())]
    graph = nx.DiGraph(edges)
    graph.add_nodes_from(nodes)
    mastered = {v for v in nodes if draw(st.booleans())}
    targets = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=3, unique=True))
    return graph, mastered, targets


@settings(max_examples=150, deadline=None)
@given(_graphs(), st.randoms(use_true_random=False))
def test_the_next_skill_never_has_an_unmastered_prerequisite(case, rng) -> None:
    graph, mastered, targets = case
    plan = plan_paths(graph, targets, lambda s: s in mastered, lambda s: 0.0 if s in mastered else rng.uniform(0.1, 5))
    needed = {t for t in targets if t not in mastered}
    needed |= {a for t in needed for a in nx.ancestors(graph, t) if a not in mastered}
    assert set(plan.order) == needed
    if plan.next_skill is not None:
        assert all(p in mastered for p in graph.predecessors(plan.next_skill))
