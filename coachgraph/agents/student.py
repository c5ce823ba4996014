"""Student: answers problems with retrieved skills in its prompt.

The same prompt serves training answers, held-out evaluation and the training targets, so what
the student learns from is what it is tested on. Samples are seeded by the caller (from the run
seed and the step), so answering again after a kill gives the same answers from the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel

from coachgraph.agents.prompts import render_prompt
from coachgraph.models import sample_replies
from coachgraph.skills import SkillLibrary
from coachgraph.tasks import format_instruction
from coachgraph.tasks.evaluate import AnswerBatch
from coachgraph.types import Attempt, ChatMessage, StepItem, Task

__all__ = ["answer_items", "answerer", "render_skills", "retrieved_skills", "skill_names", "student_messages"]


def skill_names(library: SkillLibrary | None, task: Task, k: int) -> list[str]:
    """The `k` library skills best matching the task (none without a library).

    The query names the task's skill as well as its question: a bare "What is 62 + 99?" shares
    no words with skill descriptions, so keyword retrieval would find nothing.
    """
    if library is None or k <= 0:
        return []
    return [hit.id for hit in library.search(f"{task.skill.replace('-', ' ')} {task.question}", k)]


def render_skills(library: SkillLibrary | None, names: Sequence[str]) -> str:
    """Level-2 disclosure of the named skills for a prompt (empty without a library)."""
    return "\n".join(library.render(name) for name in names) if library else ""


def retrieved_skills(library: SkillLibrary | None, task: Task, k: int) -> str:
    """Level-2 disclosure of the `k` skills best matching the task (empty without a library)."""
    return render_skills(library, skill_names(library, task, k))


def student_messages(task: Task, skills: str = "") -> list[ChatMessage]:
    """The chat the student sees for `task` (also the prompt its training targets follow)."""
    user = render_prompt("student", "user", skills=skills, question=task.question,
                         instruction=format_instruction(task.format))
    return [{"role": "system", "content": render_prompt("student", "system")},
            {"role": "user", "content": user}]


def answer_items(model: BaseChatModel, items: Sequence[StepItem], library: SkillLibrary | None, *,
                 skills_k: int, samples: int, seed: int, temperature: float, max_tokens: int) -> list[StepItem]:
    """Sample `samples` answers per item; each item gains its prompt, skills shown and attempts."""
    shown = [skill_names(library, item.task, skills_k) for item in items]
    chats = [student_messages(item.task, render_skills(library, names)) for item, names in zip(items, shown, strict=True)]
    rows = sample_replies(model, chats, n=samples, seed=seed, temperature=temperature, max_tokens=max_tokens)
    return [item.model_copy(update={
        "prompt": chat, "skills": names,
        "attempts": [Attempt(task_id=item.task.id, text=r.text, sample=j, token_ids=list(r.token_ids),
                             logprobs=list(r.logprobs) or None) for j, r in enumerate(row)]})
        for item, chat, names, row in zip(items, chats, shown, rows, strict=True)]


def answerer(model: BaseChatModel, library: SkillLibrary | None, *, skills_k: int, seed: int,
             max_tokens: int) -> AnswerBatch:
    """The student as a greedy batch function from tasks to replies, for held-out evaluation."""

    def answer(tasks: Sequence[Task]) -> list[str]:
        chats = [student_messages(t, retrieved_skills(library, t, skills_k)) for t in tasks]
        rows = sample_replies(model, chats, n=1, seed=seed, temperature=0.0, max_tokens=max_tokens)
        return [row[0].text for row in rows]

    return answer
