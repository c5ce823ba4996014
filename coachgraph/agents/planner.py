"""Planner: asks the curriculum algorithm what to practise next and records why.

The teacher algorithm's state lives in graph state (as JSON text), so the planner restores it
before sampling; a node LangGraph re-runs after a kill therefore makes the same decisions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from coachgraph.agents._prompts import render_prompt
from coachgraph.agents.context import AgentContext
from coachgraph.curriculum import PrerequisiteGate, Teacher
from coachgraph.types import CurriculumStep

__all__ = ["planner_node", "restore_teacher"]

logger = logging.getLogger(__name__)


def restore_teacher(teacher: Teacher, state: Mapping[str, Any]) -> None:
    """Load the teacher state kept in graph state.

    A run starts with the teacher's initial state in graph state, so every planner call, a
    re-run after a kill included, starts from the checkpointed state; without one the teacher
    goes on from wherever it is.
    """
    if state.get("teacher_state"):
        teacher.load_state_dict(json.loads(state["teacher_state"]))


def _unlocked(teacher: Teacher) -> str:
    """Skills open under prerequisite gating, or empty when the spec has no gate."""
    return ", ".join(teacher.unlocked()) if isinstance(teacher, PrerequisiteGate) else ""


def _explain(step: CurriculumStep, number: int, gated: str) -> CurriculumStep:
    reason = render_prompt("planner", "reason", step=number, decision=step.reason, gated=gated)
    return step.model_copy(update={"reason": reason})


def planner_node(state: Mapping[str, Any], runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Sample `batch_size` curriculum steps; they go to the plan and to the curriculum record."""
    ctx = runtime.context
    restore_teacher(ctx.teacher, state)
    gated = _unlocked(ctx.teacher)
    number = int(state.get("step", 0))
    plan = [_explain(s, number, gated) for s in ctx.teacher.sample(ctx.config.batch_size)]
    logger.info("step %d plan: %s", number, ", ".join(s.skill or "?" for s in plan))
    dumped = [s.model_dump(mode="json") for s in plan]
    return {"plan": dumped, "curriculum": dumped,
            "teacher_state": json.dumps(ctx.teacher.state_dict())}
