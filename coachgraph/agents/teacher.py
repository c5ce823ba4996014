"""Teacher: turns curriculum decisions into problems, and may reword problems the student failed.

Problem draws use a generator seeded by the run seed and the step number, so a re-run of the
node (after a kill) draws the same problems. A reformulation keeps the original numbers, answer
and reference steps, so it stays verifiable; replies that drop a number are discarded.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from coachgraph.agents._prompts import render_prompt
from coachgraph.agents.context import AgentContext
from coachgraph.types import CurriculumStep, Task

__all__ = ["reformulate", "teacher_node"]

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"\d+")


def reformulate(model: BaseChatModel, task: Task) -> Task | None:
    """A reworded copy of `task` from `model`, or None when the reply loses a number."""
    prompt = render_prompt("teacher", "reformulate", question=task.question, answer=task.answer)
    text = str(model.invoke([HumanMessage(prompt)]).content).strip()
    if not text or sorted(_NUMBER.findall(text)) != sorted(_NUMBER.findall(task.question)):
        logger.info("discarded a reformulation of %s: %r", task.id, text[:80])
        return None
    return task.model_copy(update={
        "id": f"{task.id}-r", "question": text,
        "metadata": {**task.metadata, "reformulated_from": task.id}})


def _reformulations(ctx: AgentContext, failed: Sequence[Mapping[str, Any]]) -> list[Task]:
    if ctx.teacher_model is None or ctx.config.reformulate <= 0:
        return []
    picked = [Task.model_validate(t) for t in failed[:ctx.config.reformulate]]
    rewritten = [reformulate(ctx.teacher_model, t) for t in picked]
    return [t for t in rewritten if t is not None]


def teacher_node(state: Mapping[str, Any], runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Draw one problem per planned step, plus reformulations of last step's failures."""
    ctx = runtime.context
    rng = random.Random(f"{ctx.config.seed}:teacher:{int(state.get('step', 0))}")
    plan = [CurriculumStep.model_validate(s) for s in state["plan"]]
    tasks = [ctx.domain.task_for(step, rng) for step in plan]
    tasks += _reformulations(ctx, state.get("failed", []))
    return {"tasks": [t.model_dump(mode="json") for t in tasks]}
