"""Teacher as tutor: the teaching moves of an interactive session.

A move is feedback on the learner's work, a graduated hint, an explanation of a new skill, a
worked example, a worked solution on request, or a new problem. Moves that state facts the
session already holds (whether an answer was right, which misconception it shows, the problem
itself) are written from templates; the hints and explanations that teach are written by the
teacher model when one is set (with retrieved library skills in its prompt), from templates
otherwise. Following Tutor CoPilot's finding, hints are guiding questions that get more concrete
level by level (a question about the approach, then the first step to look at, then a worked
example of a similar problem), and every text about an unsolved problem passes the answer guard
as it streams, whoever wrote it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from coachgraph.agents.diagnosis import Diagnosis, mask_results
from coachgraph.agents.guard import AnswerGuard, leaks_answer
from coachgraph.agents.prompts import render_prompt
from coachgraph.agents.student import retrieved_skills
from coachgraph.skills import SkillLibrary
from coachgraph.tasks import TaskDomain
from coachgraph.types import Task

__all__ = ["Emit", "HINT_LEVELS", "Written", "explain_skill", "feedback", "hint", "pose_problem",
           "similar_problem", "worked_solution"]

Emit = Callable[[str], None]
"""Receives each piece of a tutor message as it becomes safe to show."""

HINT_LEVELS = 3
"""Hint levels: 1 a question about the approach, 2 the step to look at, 3 a worked example."""


@dataclass(frozen=True, slots=True)
class Written:
    """One part of a tutor message: what the learner saw and what the writer first wrote."""

    text: str
    raw: str
    """The text before the guard (equal to `text` when nothing needed redacting)."""
    redactions: int = 0
    by_model: bool = False


def _emit_all(text: str, emit: Emit | None) -> str:
    if emit is not None and text:
        emit(text)
    return text


def _fixed(text: str, emit: Emit | None) -> Written:
    return Written(_emit_all(text, emit), text)


def _guarded(pieces: list[str], answer: str | None, emit: Emit | None, by_model: bool) -> Written:
    """Pass `pieces` (a stream) through the guard for `answer`, emitting what is safe as it comes."""
    if answer is None:
        text = "".join(_emit_all(p, emit) for p in pieces)
        return Written(text, text, 0, by_model)
    guard, shown = AnswerGuard(answer), []
    for piece in [*pieces, None]:
        safe = guard.flush() if piece is None else guard.feed(piece)
        shown.append(_emit_all(safe, emit))
    return Written("".join(shown), "".join(p for p in pieces), guard.redactions, by_model)


def _stream_model(model: BaseChatModel, system: str, user: str, *, seed: int, temperature: float,
                  max_tokens: int) -> list[str]:
    messages = [SystemMessage(system), HumanMessage(user)]
    return [str(chunk.content) for chunk in model.stream(messages, seed=seed, temperature=temperature,
                                                        max_tokens=max_tokens)]


def feedback(task: Task, diagnosis: Diagnosis, emit: Emit | None = None) -> Written:
    """What the critic found, in words: right or wrong, and the misconception when one is named."""
    if diagnosis.correct:
        return _fixed(render_prompt("teacher", "tutor_correct", question=task.question, answer=task.answer), emit)
    text = render_prompt("teacher", "tutor_wrong", extracted=diagnosis.extracted,
                         misconception=diagnosis.misconception, description=diagnosis.description)
    return _guarded([text], task.answer, emit, by_model=False)


def similar_problem(domain: TaskDomain, task: Task, rng: random.Random, tries: int = 20) -> Task | None:
    """Another problem of the same skill whose answer and question differ from `task`'s."""
    for _ in range(tries):
        other = domain.draw(task.skill, rng)
        if other.question != task.question and not leaks_answer(f"{other.question} {' '.join(other.steps)} "
                                                                f"{other.answer}", task.answer):
            return other
    return None


def _template_hint(task: Task, diagnosis: Diagnosis | None, level: int, example: Task | None) -> str:
    step = diagnosis.step if diagnosis is not None and diagnosis.step else (mask_results(task.steps[0]) if task.steps else "")
    if level >= 3 and example is not None:
        return render_prompt("teacher", "tutor_example", question=example.question, steps=example.steps,
                             answer=example.answer)
    if level >= 2 and step:
        return render_prompt("teacher", "tutor_step_hint", step=step)
    return render_prompt("teacher", "tutor_question_hint", skill=task.skill.replace("-", " "),
                         first=mask_results(task.steps[0]) if task.steps else "")


def hint(task: Task, diagnosis: Diagnosis | None, level: int, *, model: BaseChatModel | None = None,
         library: SkillLibrary | None = None, domain: TaskDomain | None = None, rng: random.Random | None = None,
         seed: int = 0, temperature: float = 0.0, max_tokens: int = 96, skills_k: int = 1,
         emit: Emit | None = None) -> Written:
    """A graduated hint for the unsolved `task`, guarded against its answer.

    With a model, the model writes it from the level's instruction, the learner's last answer,
    the diagnosis and the retrieved skills; a message the guard had to redact is followed by the
    template hint of the same level, so the learner still gets a usable question.
    """
    example = similar_problem(domain, task, rng or random.Random(seed)) if level >= 3 and domain is not None else None
    fallback = _template_hint(task, diagnosis, level, example)
    if model is None:
        return _guarded([fallback], task.answer, emit, by_model=False)
    user = render_prompt("teacher", "tutor_hint_request", question=task.question, level=level,
                         extracted=diagnosis.extracted if diagnosis else None,
                         misconception=diagnosis.description if diagnosis else "",
                         step=diagnosis.step if diagnosis else "", skills=retrieved_skills(library, task, skills_k))
    pieces = _stream_model(model, render_prompt("teacher", "tutor_system"), user, seed=seed,
                           temperature=temperature, max_tokens=max_tokens)
    written = _guarded(pieces, task.answer, emit, by_model=True)
    if written.redactions == 0:
        return written
    follow = _guarded(["\n" + fallback], task.answer, emit, by_model=False)
    return Written(written.text + follow.text, written.raw, written.redactions, True)


def explain_skill(skill: str, upcoming: Task, *, model: BaseChatModel | None = None,
                  library: SkillLibrary | None = None, seed: int = 0, temperature: float = 0.0,
                  max_tokens: int = 96, skills_k: int = 1, emit: Emit | None = None) -> Written:
    """A short introduction to a skill the learner starts on, guarded against the answer of the
    problem that follows it."""
    found = library.search(f"{skill.replace('-', ' ')} {upcoming.question}", 1) if library is not None else []
    note = library.get(found[0].id).description if found and library is not None else ""
    if model is None:
        text = render_prompt("teacher", "tutor_explain", skill=skill.replace("-", " "), note=note)
        return _guarded([text], upcoming.answer, emit, by_model=False)
    user = render_prompt("teacher", "tutor_explain_request", skill=skill.replace("-", " "),
                         skills=retrieved_skills(library, upcoming, skills_k))
    pieces = _stream_model(model, render_prompt("teacher", "tutor_system"), user, seed=seed,
                           temperature=temperature, max_tokens=max_tokens)
    return _guarded(pieces, upcoming.answer, emit, by_model=True)


def pose_problem(task: Task, number: int, emit: Emit | None = None) -> Written:
    """The problem statement (the only text about an unsolved problem that is not guarded)."""
    return _fixed(render_prompt("teacher", "tutor_problem", number=number, skill=task.skill, question=task.question), emit)


def worked_solution(task: Task, emit: Emit | None = None) -> Written:
    """The full solution, shown when the learner asks for it (the problem then counts as not solved)."""
    return _fixed(render_prompt("teacher", "tutor_solution", question=task.question, steps=task.steps,
                                answer=task.answer), emit)
