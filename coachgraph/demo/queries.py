"""Recommendation queries against the recommender an orchestrate run trained: the next agent for a
task, and the team for it, each with how much every feature group contributed."""

from __future__ import annotations

from dataclasses import dataclass

from coachgraph.agents.pool import PoolFile
from coachgraph.recommend import Recommendation, RecommendService, Team

__all__ = ["QueryAnswer", "answer_queries"]


@dataclass(frozen=True)
class QueryAnswer:
    """The recommender's answers for one task."""

    task: str
    next: list[Recommendation]
    """The best first members, with per-feature-group contributions."""
    team: Team
    """The recommended connected team (members with utilities, interaction edges)."""


def answer_queries(service: RecommendService, pool: PoolFile, tasks: tuple[str, ...], *, top: int,
                   team_size: int) -> list[QueryAnswer]:
    """Ask `service` for the next agent and the team of each task, among the pool's members."""
    names = pool.names
    costs = {m.name: m.cost for m in pool.members}
    return [QueryAnswer(task, service.next(task=task, candidates=names, k=top),
                        service.team(task, max_size=team_size, candidates=names, costs=costs))
            for task in tasks]
