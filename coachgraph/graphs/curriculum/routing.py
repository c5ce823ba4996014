"""Pure routing functions of the curriculum graph: each returns the name of the next node."""

from __future__ import annotations

from typing import Literal

from coachgraph.agents import reflect_due
from coachgraph.graphs.curriculum.state import CurriculumState

__all__ = ["after_evaluate", "after_learn", "after_reflect", "at_start"]


def _finished(state: CurriculumState) -> bool:
    return state.get("step", 0) >= state.get("max_steps", 0)


def at_start(state: CurriculumState) -> Literal["evaluate", "planner"]:
    """Evaluate the untrained student first (the baseline of every learning curve).

    >>> at_start({}), at_start({"history": [{"step": 0}]})
    ('evaluate', 'planner')
    """
    return "planner" if state.get("history") else "evaluate"


def after_learn(state: CurriculumState) -> Literal["reflect", "evaluate", "planner"]:
    """Reflect every `reflect_every` steps, then go on as `after_reflect` says.

    >>> after_learn({"step": 4, "max_steps": 9, "reflect_every": 2, "eval_every": 3})
    'reflect'
    >>> after_learn({"step": 3, "max_steps": 9, "reflect_every": 2, "eval_every": 3})
    'evaluate'
    """
    if reflect_due(state.get("step", 0), state.get("reflect_every", 0)):
        return "reflect"
    return after_reflect(state)


def after_reflect(state: CurriculumState) -> Literal["evaluate", "planner"]:
    """Evaluate every `eval_every` steps and after the last one; otherwise plan the next step.

    >>> after_reflect({"step": 2, "max_steps": 5, "eval_every": 2})
    'evaluate'
    >>> after_reflect({"step": 3, "max_steps": 5, "eval_every": 2})
    'planner'
    >>> after_reflect({"step": 5, "max_steps": 5, "eval_every": 0})
    'evaluate'
    """
    every = state.get("eval_every", 0)
    if _finished(state) or (every > 0 and state.get("step", 0) % every == 0):
        return "evaluate"
    return "planner"


def after_evaluate(state: CurriculumState) -> Literal["planner", "__end__"]:
    """Stop once `max_steps` training steps are done.

    >>> after_evaluate({"step": 0, "max_steps": 3}), after_evaluate({"step": 3, "max_steps": 3})
    ('planner', '__end__')
    """
    return "__end__" if _finished(state) else "planner"
