"""Teacher: turns curriculum decisions into problems; with a chat model, rewords and writes more.

Problem draws use a generator the caller derives from the run seed and the step number, so
drawing again after a kill draws the same problems. A reformulation keeps the original numbers, answer
and reference steps, so it stays verifiable; replies that drop a number are discarded. New
problems for missing skills (STAT-Syn, card 4) carry no reference: the teacher model solves each
three times and the problem is kept only when at least two solutions agree on the answer.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections import Counter
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from coachgraph.agents.prompts import render_prompt
from coachgraph.models import sample_replies
from coachgraph.seeding import derive_seed
from coachgraph.tasks import TaskDomain
from coachgraph.tasks.answers import extract_number
from coachgraph.types import CurriculumStep, Task

__all__ = ["missing_skill_problems", "planned_problems", "reformulate", "reformulations", "synthesize"]

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


def synthesize(model: BaseChatModel, skill: str, examples: Sequence[Task], *, seed: int,
               solutions: int = 3) -> Task | None:
    """A new problem for `skill` written from `examples`, with the answer most of its solutions agree on."""
    prompt = render_prompt("teacher", "synthesize", skill=skill, examples=[t.question for t in examples])
    question = str(model.invoke([HumanMessage(prompt)]).content).strip()
    if not question or not _NUMBER.search(question):
        logger.info("discarded a synthesized problem for %s: %r", skill, question[:80])
        return None
    chat = [{"role": "user", "content": render_prompt("teacher", "solve", question=question)}]
    replies = sample_replies(model, [chat], n=solutions, seed=seed, temperature=0.7, max_tokens=160)[0]
    answers = Counter(a for a in (extract_number(r.text) for r in replies) if a is not None)
    answer, agreeing = answers.most_common(1)[0] if answers else (None, 0)
    if answer is None or agreeing < 2:
        logger.info("discarded a synthesized problem for %s: solutions disagree (%s)", skill, dict(answers))
        return None
    ident = hashlib.sha1(f"{skill}:{question}".encode()).hexdigest()[:12]
    return Task(id=f"syn-{ident}", skill=skill, category=examples[0].category, question=question, answer=answer,
                difficulty=dict(examples[0].difficulty), format="open", metadata={"synthesized": True, "agreeing": agreeing})


def missing_skill_problems(model: BaseChatModel, domain: TaskDomain, failed: Sequence[Task], *, limit: int,
                           rng: random.Random, seed: int, step: int) -> list[Task]:
    """STAT-Syn: new problems for the skills of failed problems (their missing-skill profile),
    most frequently missing first, at most `limit` of them."""
    missing = Counter(t.skill for t in failed)
    made = []
    for i, (skill, _) in enumerate(missing.most_common(limit)):
        source = next(t for t in failed if t.skill == skill)
        examples = [source, *(domain.draw(skill, rng) for _ in range(2))]
        task = synthesize(model, skill, examples, seed=derive_seed(seed, "synthesize", step, i))
        made += [task] if task is not None else []
    return made


def reformulations(model: BaseChatModel, failed: Sequence[Task], limit: int) -> list[Task]:
    """Rewordings of the first `limit` failed problems (those that keep every number)."""
    rewritten = [reformulate(model, t) for t in failed[:limit]]
    return [t for t in rewritten if t is not None]


def planned_problems(domain: TaskDomain, plan: Sequence[CurriculumStep], rng: random.Random) -> list[Task]:
    """One problem per curriculum decision, drawn where it points."""
    return [domain.task_for(step, rng) for step in plan]
