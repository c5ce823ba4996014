"""Critic: verifies answers, finds the first wrong reference step, and scores confidence.

First-error localisation is OmegaPRM's binary search over step prefixes with a deterministic
check in place of Monte Carlo rollouts: a prefix of reference steps holds when every step result
in it appears, in order, among the results the student stated (the numbers right after an
``=``, or every number when the student wrote no equation). That predicate can only turn false
as the prefix grows, so the search finds the first step whose result the student never stated.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from coachgraph.agents._prompts import render_prompt
from coachgraph.agents.context import AgentContext
from coachgraph.models import crew
from coachgraph.models.chat_local import LocalChatModel
from coachgraph.models.local import Message
from coachgraph.tasks import check_answer, normalize_number
from coachgraph.types import Attempt, Task, Verdict

__all__ = ["critic_node", "first_wrong_step", "judge", "stated_numbers", "step_result"]

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_RESULT = re.compile(r"=\s*(-?\d[\d,]*(?:\.\d+)?)")


def stated_numbers(text: str) -> list[str]:
    """The results `text` states in order: numbers after ``=``, else every number, normalised.

    >>> stated_numbers("9 + 3 = 12, write 2 carry 1; 5 + 6 = 11")
    ['12', '11']
    >>> stated_numbers("I think 12")
    ['12']
    """
    found = _RESULT.findall(text) or _NUMBER.findall(text)
    return [n for n in (normalize_number(m) for m in found) if n is not None]


def _in_order(wanted: Sequence[str | None], said: Sequence[str]) -> bool:
    """Whether the non-None `wanted` results occur in `said` in the same order."""
    rest = iter(said)
    return all(w is None or any(s == w for s in rest) for w in wanted)


def step_result(step: str) -> str | None:
    """The result a reference step states: the first number after its last ``=``.

    >>> step_result("9 + 3 = 12, write 2 carry 1"), step_result("no equation") is None
    ('12', True)
    """
    _, sign, tail = step.rpartition("=")
    found = _NUMBER.findall(tail) if sign else []
    return normalize_number(found[0]) if found else None


def first_wrong_step(text: str, steps: Sequence[str], correct: bool = False) -> int | None:
    """0-based index of the first reference step whose result `text` never states.

    None for a correct answer or no reference steps; a wrong answer that states every step
    result is blamed on the last step (it wrote the right numbers but concluded wrongly).

    >>> steps = ["5 + 3 = 8", "1 + 4 = 5", "15 + 43 = 58"]
    >>> first_wrong_step("5 + 3 = 8, 1 + 4 = 6, so 68", steps)
    1
    """
    if correct or not steps:
        return None
    said = stated_numbers(text)
    results = [step_result(s) for s in steps]
    lo, hi = 0, len(steps)  # invariant: prefix lo holds; the first failing prefix is <= hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _in_order(results[:mid], said):
            lo = mid
        else:
            hi = mid - 1
    return min(lo, len(steps) - 1)


def _confidence(model: BaseChatModel, chat: Sequence[Message], text: str, answer: str) -> float | None:
    """CRew of a correct answer: the student's mean probability of its answer tokens."""
    cut = text.rfind(answer)
    if not isinstance(model, LocalChatModel) or cut < 0:
        return None
    return crew(model, list(chat), text[:cut], text[cut:cut + len(answer)])


def judge(task: Task, attempt: Attempt, chat: Sequence[Message] = (),
          model: BaseChatModel | None = None) -> tuple[Attempt, Verdict]:
    """Grade one attempt; a correct one of a local student also gets its CRew score."""
    extracted, ok = check_answer(task, attempt.text)
    step = first_wrong_step(attempt.text, task.steps, ok)
    scores = {"reward": 1.0 if ok else 0.0}
    if ok and model is not None and chat and extracted is not None:
        confidence = _confidence(model, chat, attempt.text, extracted)
        scores.update({} if confidence is None else {"crew": confidence})
    feedback = render_prompt("critic", "correct" if ok else "wrong", answer=task.answer,
                             extracted=extracted, step=step,
                             reference=task.steps[step] if step is not None else "")
    graded = attempt.model_copy(update={"extracted": extracted, "correct": ok})
    return graded, Verdict(task_id=task.id, correct=ok, first_wrong_step=step, scores=scores,
                           feedback=feedback)


def critic_node(state: Mapping[str, Any], runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Grade every attempt; graded attempts replace the raw ones, verdicts go alongside."""
    ctx = runtime.context
    model = ctx.student if ctx.config.crew else None
    attempts, verdicts = [], []
    for task_json, row, chat in zip(state["tasks"], state["attempts"], state["prompts"], strict=True):
        task = Task.model_validate(task_json)
        graded = [judge(task, Attempt.model_validate(a), chat, model) for a in row]
        attempts.append([a.model_dump(mode="json") for a, _ in graded])
        verdicts.append([v.model_dump(mode="json") for _, v in graded])
    return {"attempts": attempts, "verdicts": verdicts}
