"""A recommended team as a subgraph: members, who calls whom, and the limits a team must keep.

`teamrec.recommend_team` fills these in: each member carries its probability of belonging to the
team (and what each feature group added to it), each directed call edge its probability. A team
is `connected` when every member is reached from `structure.ENTRY`, the caller that runs the
team, along its edges: the recommender always returns one call graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
from pydantic import BaseModel, Field

from coachgraph.recommend.structure import ENTRY

__all__ = ["Team", "TeamConfig", "TeamEdge", "TeamMember"]


@dataclass(frozen=True, slots=True)
class TeamConfig:
    """The limits a recommended team keeps."""

    max_size: int = 4
    """At most this many members (the recommender picks the size below it)."""
    costs: Mapping[str, float] = field(default_factory=dict)
    """Cost of each member (unknown: 0)."""
    budget: float | None = None
    """Maximum total cost of a team."""


class TeamMember(BaseModel):
    name: str
    probability: float
    """How likely the recommender finds it that this member belongs to the team."""
    contributions: dict[str, float] = Field(default_factory=dict)
    """What each feature group added to the member's score (log-odds)."""


class TeamEdge(BaseModel):
    source: str
    """The caller: a member, or `structure.ENTRY` for the team's first calls."""
    target: str
    probability: float
    """How likely the recommender finds it that `source` calls `target` in this team."""


class Team(BaseModel):
    """A recommended team: members, directed call edges among them (and from `ENTRY`), its score."""

    nodes: list[TeamMember]
    """The members in call order: callers before callees, siblings as past teams called them."""
    edges: list[TeamEdge]
    score: float
    connected: bool
    entry: str = ENTRY
    """The name that stands for the team's caller in `edges`."""

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.nodes]

    def graph(self) -> nx.DiGraph:
        """The team as a networkx digraph: members (vertex attribute `probability`), `entry`, and the
        call edges (edge attribute `probability`)."""
        g = nx.DiGraph()
        g.add_node(self.entry, probability=1.0)
        g.add_nodes_from((m.name, {"probability": m.probability}) for m in self.nodes)
        g.add_edges_from((e.source, e.target, {"probability": e.probability}) for e in self.edges)
        return g
