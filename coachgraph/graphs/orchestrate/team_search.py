"""The best connected team for per-member utilities: what the learned policy does with its draws.

Members are linked in an interaction graph (calls and co-occurrence in the recommender's training
trees); a team's value is the sum of its members' utilities plus a bonus for the compatibility of
the pairs in it, and a team of more than one member must be connected in that graph and within
the budget. Small pools are searched exactly, larger ones greedily with one-swap local search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

import networkx as nx

from coachgraph.recommend.stats import InteractionStats

__all__ = ["SearchConfig", "interaction_graph", "select_team"]


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """How a team is searched for."""

    max_size: int = 4
    """At most this many members."""
    pair_weight: float = 0.2
    """Weight of pairwise compatibility against unary utility."""
    pool_size: int = 12
    """Candidates (best by utility) a team is drawn from."""
    exact_limit: int = 5000
    """Enumerate exactly when there are at most this many subsets to try."""
    costs: Mapping[str, float] = field(default_factory=dict)
    """Cost of each member (unknown: 0)."""
    budget: float | None = None
    """Maximum total cost of a team."""


def interaction_graph(stats: InteractionStats) -> nx.Graph:
    """Agents/tools linked when one called the other or both served one trace in training."""
    g = nx.Graph()
    g.add_nodes_from(stats.calls)
    pairs = {tuple(sorted(p)) for p in stats.transitions if p[0] in stats.calls and p[0] != p[1]}
    pairs |= set(stats.cooccur)
    for a, b in pairs:
        pmi = max(stats.pmi(a, b), 0.0)
        g.add_edge(a, b, compatibility=pmi / (1.0 + pmi))  # in [0, 1), on the scale of utilities
    return g


def _value(team: tuple[str, ...], unary: Mapping[str, float], graph: nx.Graph, cfg: SearchConfig) -> float:
    pairs = sum(graph.edges[a, b]["compatibility"] for a, b in combinations(team, 2) if graph.has_edge(a, b))
    return sum(unary[m] for m in team) + cfg.pair_weight * pairs


def _feasible(team: tuple[str, ...], graph: nx.Graph, cfg: SearchConfig) -> bool:
    if cfg.budget is not None and sum(cfg.costs.get(m, 0.0) for m in team) > cfg.budget:
        return False
    return len(team) == 1 or (all(m in graph for m in team) and nx.is_connected(graph.subgraph(team)))


def _exact(pool: list[str], unary: Mapping[str, float], graph: nx.Graph, cfg: SearchConfig) -> tuple[str, ...]:
    best: tuple[str, ...] = ()
    best_value = -math.inf
    for size in range(1, cfg.max_size + 1):
        for team in combinations(pool, size):
            value = _value(team, unary, graph, cfg)
            if value > best_value and _feasible(team, graph, cfg):
                best, best_value = team, value
    return best


def _greedy(pool: list[str], unary: Mapping[str, float], graph: nx.Graph, cfg: SearchConfig) -> tuple[str, ...]:
    team: tuple[str, ...] = next(((m,) for m in pool if _feasible((m,), graph, cfg)), ())
    while team and len(team) < cfg.max_size:
        options: list[tuple[str, ...]] = [(*team, m) for m in pool if m not in team and _feasible((*team, m), graph, cfg)]
        best = max(options, key=lambda t: _value(t, unary, graph, cfg), default=None)
        if best is None or _value(best, unary, graph, cfg) <= _value(team, unary, graph, cfg):
            break
        team = best
    return _local_search(team, pool, unary, graph, cfg)


def _local_search(team: tuple[str, ...], pool: list[str], unary: Mapping[str, float], graph: nx.Graph,
                  cfg: SearchConfig, rounds: int = 20) -> tuple[str, ...]:
    """Swap one member for one outsider while that improves the value and keeps the team feasible."""
    for _ in range(rounds):
        current = _value(team, unary, graph, cfg)
        swaps = [tuple(m if m != out else new for m in team) for out in team for new in pool if new not in team]
        better = [t for t in swaps if _value(t, unary, graph, cfg) > current + 1e-9 and _feasible(t, graph, cfg)]
        if not better:
            break
        team = max(better, key=lambda t: _value(t, unary, graph, cfg))
    return team


def select_team(unary: Mapping[str, float], graph: nx.Graph, config: SearchConfig = SearchConfig()) -> list[str]:
    """The members of the best feasible team for per-candidate utilities `unary` (higher is better)."""
    pool = sorted(unary, key=lambda m: -unary[m])[: config.pool_size]
    subsets = sum(math.comb(len(pool), k) for k in range(1, config.max_size + 1))
    return list((_exact if subsets <= config.exact_limit else _greedy)(pool, unary, graph, config))
