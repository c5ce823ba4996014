"""Recommendation queries against the recommender an orchestrate run trained: the next agent for a
task, and the team for it, each with how much every feature group contributed."""

from __future__ import annotations

from dataclasses import dataclass

from coachgraph.agents.pool import PoolFile
from coachgraph.errors import InputError
from coachgraph.recommend import Recommendation, RecommendService, Team

__all__ = ["QueryAnswer", "answer_queries"]


@dataclass(frozen=True)
class QueryAnswer:
    """The recommender's answers for one task."""

    task: str
    next: list[Recommendation]
    """The best first members, with per-feature-group contributions."""
    team: Team | None
    """The recommended team (members with probabilities, call edges); None where the run's traces
    held too few teams for the recommender to learn teams from."""


def answer_queries(service: RecommendService, pool: PoolFile, tasks: tuple[str, ...], *, top: int,
                   team_size: int) -> list[QueryAnswer]:
    """Ask `service` for the next agent and the team of each task, among the pool's members."""
    names = pool.names
    costs = {m.name: m.cost for m in pool.members}
    return [QueryAnswer(task, service.next(task=task, candidates=names, k=top),
                        _team(service, task, team_size, names, costs)) for task in tasks]


def _team(service: RecommendService, task: str, size: int, names: list[str], costs: dict[str, float]) -> Team | None:
    try:
        return service.team(task, max_size=size, candidates=names, costs=costs)
    except InputError:  # a short run: its traces hold too few teams to learn teams from
        return None
