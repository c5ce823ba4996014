"""The orchestrate graph's state: JSON values only, with reducers on the lists that grow.

Live objects (the pool's members, the recommender, the stores) stay in the runtime context; what
must survive a kill (the round counter, this round's assignments, every finished task's record,
the recommender's retrainings) is here, so the checkpointer restores it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

__all__ = ["Assignment", "OrchestrateState"]

JSON = dict[str, Any]


class Assignment(TypedDict):
    """One task of a round with the team chosen for it (what a `run_team` branch receives)."""

    round: int
    index: int
    """Position of the task in the run (0-based, over all rounds)."""
    task: JSON
    """The task (`Task` as JSON)."""
    task_kind: str
    team: list[str]
    """The call structure: members in the order the supervisor calls them."""
    why: JSON
    """Per member, what the choice rested on (recommender prior, evidence, draw)."""
    model_version: int
    """Retrainings of the recommender before this choice (0: none yet)."""
    run_id: str
    trace_id: str
    """Where the team run's calling tree is stored (derived from the run and `index`)."""


class OrchestrateState(TypedDict, total=False):
    """State of one orchestrate run (the `thread_id` is the run id)."""

    run_id: str
    rounds: int
    """Rounds to run."""
    retrain_every: int
    """Tasks between retrainings (0: the policy does not learn, or never retrains)."""
    round: int
    """Rounds finished."""
    tasks_done: int
    trained_at: int
    """`tasks_done` at the last retraining."""
    model_version: int
    """Retrainings of the recommender so far."""
    batch: list[Assignment]
    """This round's assignments."""
    results: Annotated[list[JSON], operator.add]
    """One record per finished task: task, kind, team, outcome, blamed member, cost, time, trace id."""
    retrains: Annotated[list[JSON], operator.add]
    """One record per retraining: after how many tasks, on how many traces, how long it took."""
