"""Student: answers each problem G times, with retrieved skills in its prompt.

Samples are seeded from the run seed and the step number, so a re-run of the node after a kill
produces the same answers from the same weights.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from coachgraph.agents._generation import generate_replies
from coachgraph.agents._prompts import render_prompt
from coachgraph.agents.context import AgentContext
from coachgraph.models.local import Message
from coachgraph.skills import SkillLibrary
from coachgraph.tasks import format_instruction
from coachgraph.types import Attempt, Task

__all__ = ["render_skills", "retrieved_skills", "skill_names", "student_messages", "student_node", "student_seed"]

logger = logging.getLogger(__name__)


def skill_names(library: SkillLibrary | None, task: Task, k: int) -> list[str]:
    """The `k` library skills best matching the task (none without a library).

    The query names the task's skill as well as its question: a bare "What is 62 + 99?" shares
    no words with skill descriptions, so keyword retrieval would find nothing.
    """
    if library is None or k <= 0:
        return []
    return [hit.id for hit in library.search(f"{task.skill.replace('-', ' ')} {task.question}", k)]


def render_skills(library: SkillLibrary | None, names: list[str]) -> str:
    """Level-2 disclosure of the named skills for a prompt (empty without a library)."""
    return "\n".join(library.render(name) for name in names) if library else ""


def retrieved_skills(library: SkillLibrary | None, task: Task, k: int) -> str:
    """Level-2 disclosure of the `k` skills best matching the task (empty without a library)."""
    return render_skills(library, skill_names(library, task, k))


def student_messages(task: Task, skills: str = "") -> list[Message]:
    """The chat the student sees for `task` (also the prompt its training targets follow)."""
    user = render_prompt("student", "user", skills=skills, question=task.question,
                         instruction=format_instruction(task.format))
    return [{"role": "system", "content": render_prompt("student", "system")},
            {"role": "user", "content": user}]


def student_seed(seed: int, step: int, purpose: str = "student") -> int:
    """A sampling seed that depends only on the run seed, the step and what it is for."""
    return random.Random(f"{seed}:{purpose}:{step}").randrange(2**31)


def student_node(state: Mapping[str, Any], runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Sample G answers per task; attempts and their token ids go to state."""
    ctx, cfg = runtime.context, runtime.context.config
    tasks = [Task.model_validate(t) for t in state["tasks"]]
    used = [skill_names(ctx.library, t, cfg.skills_k) for t in tasks]
    chats = [student_messages(t, render_skills(ctx.library, names)) for t, names in zip(tasks, used, strict=True)]
    rows = generate_replies(ctx.student, chats, n=cfg.samples, temperature=cfg.temperature,
                            seed=student_seed(cfg.seed, int(state.get("step", 0))),
                            max_tokens=cfg.max_tokens)
    attempts = [[Attempt(task_id=t.id, text=r.text, sample=j).model_dump(mode="json")
                 for j, r in enumerate(row)] for t, row in zip(tasks, rows, strict=True)]
    return {"attempts": attempts, "prompts": chats, "used_skills": used,
            "completions": [[list(r.token_ids) for r in row] for row in rows]}
