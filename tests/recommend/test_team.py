"""Team selection on graphs with known optima, and the supervisor graph built from a team."""

from __future__ import annotations

from itertools import combinations

import networkx as nx

from coachgraph.recommend.stats import build_stats
from coachgraph.recommend.supervisor import build_supervisor
from coachgraph.recommend.team import TeamConfig, interaction_graph, select_team
from tests.recommend._trees import make_trees


def _graph(edges: list[tuple[str, str, float]]) -> nx.Graph:
    g = nx.Graph()
    g.add_weighted_edges_from(edges, weight="compatibility")
    return g


def test_exact_team_must_be_connected() -> None:
    g = _graph([("a", "b", 0.1), ("b", "c", 0.1), ("d", "e", 0.9)])
    unary = {"a": 1.0, "d": 0.95, "b": 0.2, "c": 0.1, "e": 0.1}
    team = select_team(unary, g, TeamConfig(max_size=2))
    assert set(team.names) == {"d", "e"} and team.connected  # a+d is better but not connected
    assert [(e.source, e.target) for e in team.edges] == [("d", "e")]


def test_greedy_matches_brute_force_on_a_path() -> None:
    names = [f"n{i}" for i in range(20)]
    g = _graph([(a, b, 0.0) for a, b in zip(names, names[1:], strict=False)])
    unary = {n: float(i % 5) for i, n in enumerate(names)}
    team = select_team(unary, g, TeamConfig(max_size=3, pool_size=20, exact_limit=10))
    best = max((t for k in (1, 2, 3) for t in combinations(names, k) if nx.is_connected(g.subgraph(t))),
               key=lambda t: sum(unary[n] for n in t))
    assert sum(unary[n] for n in team.names) == sum(unary[n] for n in best) == 2 + 3 + 4  # n2, n3, n4
    assert team.connected


def test_budget_limits_the_team() -> None:
    g = _graph([("a", "b", 0.5), ("b", "c", 0.5)])
    team = select_team({"a": 1.0, "b": 1.0, "c": 1.0}, g,
                       TeamConfig(max_size=3, costs={"a": 2.0, "b": 1.0, "c": 1.0}, budget=2.0))
    assert set(team.names) == {"b", "c"}


def test_learned_interaction_graph_and_supervisor_run() -> None:
    graph = interaction_graph(build_stats(make_trees(30)))
    assert graph.has_edge("geocode", "weather_api") and not graph.has_edge("geocode", "translator")
    team = select_team({"geocode": 1.0, "weather_api": 0.8, "translator": 0.9}, graph, TeamConfig(max_size=2))
    assert set(team.names) == {"geocode", "weather_api"}
    members = {name: (lambda state, n=name: {"messages": [f"{n} done"]}) for name in team.names}
    app = build_supervisor(team, members).compile()
    out = app.invoke({"task": "weather in Oslo", "messages": []})
    assert out["messages"] == ["geocode done", "weather_api done"] and out["visited"] == ["geocode", "weather_api"]


def test_supervisor_accepts_reserved_characters_in_member_names() -> None:
    team = select_team({"code_action:bash": 1.0, "a|b": 0.5}, _graph([("code_action:bash", "a|b", 0.2)]),
                       TeamConfig(max_size=2))
    members = {name: (lambda state, n=name: {"messages": [n]}) for name in team.names}
    out = build_supervisor(team, members).compile().invoke({"task": "t", "messages": []})
    assert out["messages"] == ["code_action:bash", "a|b"]
