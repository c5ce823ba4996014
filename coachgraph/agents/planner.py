"""Planner: asks the curriculum algorithm what to practise next and records why; in a tutoring
session, plans the learner's path to their target skills over the prerequisite graph.

The algorithm's state lives in graph state (as JSON text), so the planner restores it before
every decision; deciding again after a kill therefore makes the same decisions. A tutoring plan
is a pure function of the learner model, so it needs no state of its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from coachgraph.agents.prompts import render_prompt
from coachgraph.curriculum import PrerequisiteGate, Teacher
from coachgraph.curriculum.bkt import opportunities_to_mastery
from coachgraph.curriculum.learner import LearnerModel, knowledge_graph
from coachgraph.curriculum.paths import plan_paths
from coachgraph.types import CurriculumStep

__all__ = ["plan_learning", "plan_practice", "prerequisites_mastered", "restore_curriculum"]

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


def prerequisites_mastered(learner: LearnerModel, prerequisites: Mapping[str, Sequence[str]], skill: str) -> bool:
    """Whether the learner model counts every prerequisite of `skill` as mastered."""
    return all(learner.mastered(p) for p in prerequisites.get(skill, ()))


def _review(graph: nx.DiGraph, learner: LearnerModel, targets: Sequence[str]) -> str:
    """With every target mastered: the least mastered target, unless a failure has put one of
    the targets' prerequisites back in question; then the least mastered such skill whose own
    prerequisites are mastered (one always is: the earliest in question)."""
    closure = set(targets).union(*(nx.ancestors(graph, t) for t in targets))
    ready = [s for s in closure if all(learner.mastered(p) for p in graph.predecessors(s))]
    pool = [s for s in ready if not learner.mastered(s)] or [t for t in targets if t in ready]
    return min(pool, key=lambda s: (learner.mastery[s], s))


def plan_learning(learner: LearnerModel, prerequisites: Mapping[str, Sequence[str]],
                  targets: Sequence[str]) -> dict[str, Any]:
    """The learner's path to `targets` (multi-source multi-sink, greedy set cover; see
    `coachgraph.curriculum.paths`) and the skill to practise next, as JSON.

    When every target is mastered the plan reviews (see `_review`). The next skill is never one
    whose prerequisites the learner model counts as unmastered.
    """
    def cost(skill: str) -> float:
        state = learner.skills[skill]
        return opportunities_to_mastery(state.mastery, state.params, learner.threshold)

    graph = knowledge_graph(learner, prerequisites)
    plan = plan_paths(graph, targets, learner.mastered, cost)
    review = plan.next_skill is None
    skill = plan.next_skill if plan.next_skill is not None else _review(graph, learner, targets)
    ready = ", ".join(f"{p} {learner.mastery[p]:.2f}" for p in prerequisites.get(skill, ()))
    reason = render_prompt("planner", "tutor_reason", skill=skill, review=review, ready=ready,
                           mastery=round(learner.mastery[skill], 2), steps=len(plan.order), targets=", ".join(targets))
    logger.info("plan for %s: %s", learner.learner, reason)
    return {"next": skill, "order": plan.order, "paths": plan.paths, "weak": plan.weak, "review": review,
            "targets": list(targets), "reason": reason}
