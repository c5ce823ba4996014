"""Evaluate: greedy held-out accuracy per skill, in one batch, appended to the run's history."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from coachgraph.agents._generation import generate_replies
from coachgraph.agents.context import AgentContext
from coachgraph.agents.student import retrieved_skills, student_messages
from coachgraph.errors import InputError
from coachgraph.tasks import check_answer

__all__ = ["evaluate_node", "heldout_scores"]

logger = logging.getLogger(__name__)


def _evaluated_skills(ctx: AgentContext) -> list[str]:
    return list(ctx.config.eval_skills or ctx.domain.skills)


def heldout_scores(ctx: AgentContext) -> dict[str, float]:
    """Greedy accuracy on the first `eval_size` held-out problems of each evaluated skill."""
    cfg = ctx.config
    skills = _evaluated_skills(ctx)
    tasks = [t for s in skills for t in ctx.domain.heldout(s)[:cfg.eval_size]]
    chats = [student_messages(t, retrieved_skills(ctx.library, t, cfg.skills_k)) for t in tasks]
    rows = generate_replies(ctx.student, chats, n=1, seed=cfg.seed, temperature=0.0,
                            max_tokens=cfg.max_tokens)
    right: dict[str, list[bool]] = defaultdict(list)
    for task, row in zip(tasks, rows, strict=True):
        right[task.skill].append(check_answer(task, row[0].text)[1])
    return {s: sum(right[s]) / len(right[s]) if right[s] else 0.0 for s in skills}


def _initial(ctx: AgentContext) -> dict[str, float] | None:
    """The step-0 accuracy given in the config, checked to cover exactly the evaluated skills."""
    given = ctx.config.initial_accuracy
    if given is None:
        return None
    skills = _evaluated_skills(ctx)
    if sorted(given) != sorted(skills):
        raise InputError(f"initial_accuracy covers {sorted(given)}, the run evaluates {sorted(skills)}",
                         source="initial_accuracy")
    return {s: float(given[s]) for s in skills}


def evaluate_node(state: Mapping[str, Any], runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Record held-out accuracy at the current step (at step 0, the given initial accuracy if any)."""
    step = int(state.get("step", 0))
    accuracy = (_initial(runtime.context) if step == 0 else None) or heldout_scores(runtime.context)
    logger.info("step %d held-out accuracy: %s", step, accuracy)
    return {"history": [{"step": step, "accuracy": accuracy}]}
