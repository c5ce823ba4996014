"""The orchestrate graph's routing: pure functions of the state that name the next node(s)."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from coachgraph.graphs.orchestrate.state import OrchestrateState

__all__ = ["after_retrain", "after_review", "fan_out", "retrain_due"]


def fan_out(state: OrchestrateState) -> list[Send]:
    """One `run_team` branch per task of the round; the branches run side by side."""
    return [Send("run_team", assignment) for assignment in state.get("batch", [])]


def _more_rounds(state: OrchestrateState) -> bool:
    return state.get("round", 0) < state.get("rounds", 0)


def retrain_due(state: OrchestrateState) -> bool:
    """Whether to retrain now: `retrain_every` new tasks since the last retraining, or any new
    task after the last round (so the model that outlives the run has seen every trace).

    >>> retrain_due({"retrain_every": 8, "tasks_done": 16, "trained_at": 8, "round": 2, "rounds": 4})
    True
    >>> retrain_due({"retrain_every": 8, "tasks_done": 12, "trained_at": 8, "round": 3, "rounds": 4})
    False
    >>> retrain_due({"retrain_every": 8, "tasks_done": 12, "trained_at": 8, "round": 4, "rounds": 4})
    True
    >>> retrain_due({"retrain_every": 0, "tasks_done": 12, "trained_at": 0, "round": 4, "rounds": 4})
    False
    """
    every, new = state.get("retrain_every", 0), state.get("tasks_done", 0) - state.get("trained_at", 0)
    return every > 0 and new > 0 and (new >= every or not _more_rounds(state))


def after_review(state: OrchestrateState) -> Literal["retrain", "choose", "__end__"]:
    """Retrain when due, else the next round, else the end.

    >>> after_review({"retrain_every": 0, "round": 1, "rounds": 2})
    'choose'
    """
    if retrain_due(state):
        return "retrain"
    return "choose" if _more_rounds(state) else "__end__"


def after_retrain(state: OrchestrateState) -> Literal["choose", "__end__"]:
    """The next round, or the end after the last one.

    >>> after_retrain({"round": 2, "rounds": 2})
    '__end__'
    """
    return "choose" if _more_rounds(state) else "__end__"
