"""System-level recommendation: a connected team of at most k agents/tools for a task.

The team maximises the sum of learned unary utilities plus weighted pairwise compatibility (PMI
of co-occurrence in training traces) over its interaction edges, subject to being connected in
the interaction graph learned from training trees and to a size and cost budget. Small problems
are solved exactly by enumeration; larger ones by greedy growth followed by swap local search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

import networkx as nx
from pydantic import BaseModel

from coachgraph.recommend.stats import InteractionStats

__all__ = ["Team", "TeamConfig", "TeamEdge", "TeamMember", "interaction_graph", "positive_utility", "select_team"]


@dataclass(frozen=True, slots=True)
class TeamConfig:
    """How a team is chosen."""

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


class TeamMember(BaseModel):
    name: str
    utility: float


class TeamEdge(BaseModel):
    source: str
    target: str
    compatibility: float


class Team(BaseModel):
    """A recommended team as a subgraph: members, interaction edges among them, total score."""

    nodes: list[TeamMember]
    edges: list[TeamEdge]
    score: float
    connected: bool

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.nodes]

    def graph(self) -> nx.Graph:
        """The team as a networkx graph (vertex attribute `utility`, edge `compatibility`)."""
        g = nx.Graph()
        g.add_nodes_from((m.name, {"utility": m.utility}) for m in self.nodes)
        g.add_edges_from((e.source, e.target, {"compatibility": e.compatibility}) for e in self.edges)
        return g


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


def _value(team: tuple[str, ...], unary: Mapping[str, float], graph: nx.Graph, cfg: TeamConfig) -> float:
    pairs = sum(graph.edges[a, b]["compatibility"] for a, b in combinations(team, 2) if graph.has_edge(a, b))
    return sum(unary[m] for m in team) + cfg.pair_weight * pairs


def _feasible(team: tuple[str, ...], graph: nx.Graph, cfg: TeamConfig) -> bool:
    if cfg.budget is not None and sum(cfg.costs.get(m, 0.0) for m in team) > cfg.budget:
        return False
    return len(team) == 1 or (all(m in graph for m in team) and nx.is_connected(graph.subgraph(team)))


def _exact(pool: list[str], unary: Mapping[str, float], graph: nx.Graph, cfg: TeamConfig) -> tuple[str, ...]:
    best: tuple[str, ...] = ()
    best_value = -math.inf
    for size in range(1, cfg.max_size + 1):
        for team in combinations(pool, size):
            value = _value(team, unary, graph, cfg)
            if value > best_value and _feasible(team, graph, cfg):
                best, best_value = team, value
    return best


def _greedy(pool: list[str], unary: Mapping[str, float], graph: nx.Graph, cfg: TeamConfig) -> tuple[str, ...]:
    team = next(((m,) for m in pool if _feasible((m,), graph, cfg)), ())
    while team and len(team) < cfg.max_size:
        options = [(*team, m) for m in pool if m not in team and _feasible((*team, m), graph, cfg)]
        best = max(options, key=lambda t: _value(t, unary, graph, cfg), default=None)
        if best is None or _value(best, unary, graph, cfg) <= _value(team, unary, graph, cfg):
            break
        team = best
    return _local_search(team, pool, unary, graph, cfg)


def _local_search(team: tuple[str, ...], pool: list[str], unary: Mapping[str, float], graph: nx.Graph,
                  cfg: TeamConfig, rounds: int = 20) -> tuple[str, ...]:
    """Swap one member for one outsider while that improves the value and keeps the team feasible."""
    for _ in range(rounds):
        current = _value(team, unary, graph, cfg)
        swaps = [tuple(m if m != out else new for m in team) for out in team for new in pool if new not in team]
        better = [t for t in swaps if _value(t, unary, graph, cfg) > current + 1e-9 and _feasible(t, graph, cfg)]
        if not better:
            break
        team = max(better, key=lambda t: _value(t, unary, graph, cfg))
    return team


def positive_utility(scores: Mapping[str, float], floor: float = 0.05) -> dict[str, float]:
    """Scores rescaled to [`floor`, 1] (min to max), so every candidate adds value and order is kept."""
    low, high = min(scores.values()), max(scores.values())
    span = high - low if high > low else 1.0
    return {n: floor + (1.0 - floor) * (v - low) / span for n, v in scores.items()}


def select_team(unary: Mapping[str, float], graph: nx.Graph, config: TeamConfig = TeamConfig()) -> Team:
    """The best feasible team for per-candidate utilities `unary` (higher is better)."""
    pool = sorted(unary, key=lambda m: -unary[m])[: config.pool_size]
    subsets = sum(math.comb(len(pool), k) for k in range(1, config.max_size + 1))
    chosen = (_exact if subsets <= config.exact_limit else _greedy)(pool, unary, graph, config)
    edges = [TeamEdge(source=a, target=b, compatibility=graph.edges[a, b]["compatibility"])
             for a, b in combinations(chosen, 2) if graph.has_edge(a, b)]
    return Team(nodes=[TeamMember(name=m, utility=unary[m]) for m in chosen], edges=edges,
                score=_value(chosen, unary, graph, config) if chosen else 0.0,
                connected=bool(chosen) and _feasible(chosen, graph, TeamConfig()))
