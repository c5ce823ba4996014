"""Planner: asks the curriculum algorithm what to practise next and records why.

The algorithm's state lives in graph state (as JSON text), so the planner restores it before
every decision; deciding again after a kill therefore makes the same decisions.
"""

from __future__ import annotations

import json
import logging

from coachgraph.agents.prompts import render_prompt
from coachgraph.curriculum import PrerequisiteGate, Teacher
from coachgraph.types import CurriculumStep

__all__ = ["plan_practice", "restore_curriculum"]

logger = logging.getLogger(__name__)


def restore_curriculum(curriculum: Teacher, saved: str | None) -> None:
    """Load the algorithm state kept in graph state (`state_dict()` as JSON text).

    A run starts with the algorithm's initial state in graph state, so every decision, a re-run
    after a kill included, starts from the checkpointed state; without one the algorithm goes
    on from wherever it is.
    """
    if saved:
        curriculum.load_state_dict(json.loads(saved))


def _unlocked(curriculum: Teacher) -> str:
    """Skills open under prerequisite gating, or empty when the spec has no gate."""
    return ", ".join(curriculum.unlocked()) if isinstance(curriculum, PrerequisiteGate) else ""


def plan_practice(curriculum: Teacher, batch: int, step: int) -> list[CurriculumStep]:
    """`batch` decisions of the curriculum algorithm, each with the reason shown to people."""
    gated = _unlocked(curriculum)
    plan = [step_.model_copy(update={"reason": render_prompt("planner", "reason", step=step,
                                                             decision=step_.reason, gated=gated)})
            for step_ in curriculum.sample(batch)]
    logger.info("step %d plan: %s", step, ", ".join(s.skill or "?" for s in plan))
    return plan
