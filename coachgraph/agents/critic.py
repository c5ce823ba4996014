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
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel

from coachgraph.agents.prompts import render_prompt
from coachgraph.models import can_score, crew, sampled_crew
from coachgraph.tasks import check_answer, normalize_number
from coachgraph.types import Attempt, ChatMessage, StepItem, Task, Verdict

__all__ = ["clip_rewards", "delta_rewards", "first_wrong_step", "grade_items", "judge", "process_reward",
           "stated_numbers", "step_result", "step_scores"]

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


def step_scores(n_steps: int, first_wrong: int | None) -> list[float]:
    """Binary process scores of the reference steps: 1 before the first wrong step, 0 from it on.

    >>> step_scores(3, 1), step_scores(2, None)
    ([1.0, 0.0, 0.0], [1.0, 1.0])
    """
    cut = n_steps if first_wrong is None else first_wrong
    return [1.0 if k < cut else 0.0 for k in range(n_steps)]


def clip_rewards(scores: Sequence[float], eta: float) -> list[float]:
    """Clip: ``min(s_k - eta, 0)``, so extra steps can never add reward.

    >>> clip_rewards([1.0, 0.25, 0.0], 0.5)
    [0.0, -0.25, -0.5]
    """
    return [min(s - eta, 0.0) for s in scores]


def delta_rewards(scores: Sequence[float]) -> list[float]:
    """Delta: ``s_k - s_(k+1)`` and ``s_K`` for the last step, so every return telescopes to one score.

    >>> delta_rewards([1.0, 0.5, 0.25])
    [0.5, 0.25, 0.25]
    """
    return [a - b for a, b in zip(scores, scores[1:], strict=False)] + list(scores[-1:])


def process_reward(scores: Sequence[float], mode: str, eta: float = 0.5) -> float:
    """Total refined process reward of one answer: ``none``, ``clip``, ``delta`` or ``clip+delta``.

    >>> process_reward([1.0, 0.0], "clip"), process_reward([1.0, 0.0], "delta"), process_reward([1.0], "none")
    (-0.5, 1.0, 0.0)
    """
    if mode == "none":
        return 0.0
    refined = list(scores)
    if "clip" in mode:
        refined = clip_rewards(refined, eta)
    if "delta" in mode:
        refined = delta_rewards(refined)
    return float(sum(refined))


def _confidence(model: BaseChatModel, chat: Sequence[ChatMessage], attempt: Attempt, answer: str) -> float | None:
    """CRew of a correct answer: the student's mean probability of its answer tokens, read from
    the log-probs recorded while it was sampled where there are some, else scored with a forward
    pass (None for models that can do neither)."""
    if attempt.logprobs:
        recorded = sampled_crew(model, attempt.token_ids, attempt.logprobs, attempt.text, answer)
        if recorded is not None:
            return recorded
    cut = attempt.text.rfind(answer)
    if not can_score(model) or cut < 0:
        return None
    return crew(model, list(chat), attempt.text[:cut], attempt.text[cut:cut + len(answer)])


def judge(task: Task, attempt: Attempt, chat: Sequence[ChatMessage] = (),
          model: BaseChatModel | None = None, process: str = "none") -> tuple[Attempt, Verdict]:
    """Grade one attempt; a correct one also gets its CRew score when `model` can score tokens.

    The reward is the verifier's outcome (1 or 0) plus, with `process` other than ``none``, the
    refined process reward of the reference steps the answer got right (card 13).
    """
    extracted, ok = check_answer(task, attempt.text)
    step = first_wrong_step(attempt.text, task.steps, ok)
    dense = process_reward(step_scores(len(task.steps), step), process) if task.steps else 0.0
    scores = {"reward": (1.0 if ok else 0.0) + dense, "outcome": 1.0 if ok else 0.0}
    if ok and model is not None and chat and extracted is not None:
        confidence = _confidence(model, chat, attempt, extracted)
        scores.update({} if confidence is None else {"crew": confidence})
    feedback = render_prompt("critic", "correct" if ok else "wrong", answer=task.answer,
                             extracted=extracted, step=step,
                             reference=task.steps[step] if step is not None else "")
    graded = attempt.model_copy(update={"extracted": extracted, "correct": ok})
    return graded, Verdict(task_id=task.id, correct=ok, first_wrong_step=step, scores=scores,
                           feedback=feedback)


def grade_items(items: Sequence[StepItem], model: BaseChatModel | None = None,
                process: str = "none") -> list[StepItem]:
    """Grade every attempt of every item: graded attempts replace the raw ones, one verdict each."""
    graded = []
    for item in items:
        pairs = [judge(item.task, attempt, item.prompt, model, process) for attempt in item.attempts]
        graded.append(item.model_copy(update={"attempts": [a for a, _ in pairs], "verdicts": [v for _, v in pairs]}))
    return graded
