"""The tutor graph's state: JSON values only, with reducers on the lists that grow.

A session is one LangGraph thread (the `thread_id` is the session id). What the learner saw and
said is in `transcript`; what the learner model knew before each counted answer and what the
answer was is in `answers`; the open problem, its attempts and hint level, and the latest plan
are here so that a resumed session shows exactly what it showed before. Live objects (the task
domain, the teacher model, the library) stay in the runtime context; the learner model itself
lives in LangGraph's store and is copied here as of the last node that read it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

__all__ = ["Outcome", "ReplyKind", "TutorState"]

JSON = dict[str, Any]

ReplyKind = Literal["answer", "hint", "solution", "end"]
"""What a learner's reply asks for."""

Outcome = Literal["start", "correct", "wrong", "hint", "solution"]
"""What the tutor reacts to in its next message."""


class TutorState(TypedDict, total=False):
    """State of one tutoring session."""

    learner: str
    """The learner's name (the store namespace of their learner model)."""
    session_id: str
    """The session (thread) id."""
    domain: str
    """Name of the task domain the session draws problems from."""
    targets: list[str]
    """The skills the session aims to master."""
    learner_model: JSON
    """The learner model (`LearnerModel`) after the last counted answer."""
    plan: JSON
    """The planner's latest plan: next skill, order, chosen paths, weak set, reason."""
    problem: JSON | None
    """The open problem (`Task`), None before the first and after the session ends."""
    problem_number: int
    """Problems posed so far."""
    attempts: int
    """Answers given to the open problem."""
    hint_level: int
    """Hints given on the open problem (the next one is one level more concrete)."""
    counted: bool
    """Whether anything about the open problem counted in the learner model yet (an answer, or
    a hint or the solution asked for before any answer)."""
    turn: int
    """Learner replies so far."""
    reply: JSON
    """The learner's last reply: ``{"kind": ReplyKind, "text": str}``."""
    diagnosis: JSON | None
    """The critic's diagnosis of the last answer (`Diagnosis`)."""
    outcome: Outcome
    """What the next tutor message reacts to."""
    message: JSON
    """The latest tutor message: ``{"turn", "moves", "text", "skill", "problem"}``."""
    status: Literal["active", "ended"]
    transcript: Annotated[list[JSON], operator.add]
    """Every message of the session in order: ``{"turn", "role": "tutor" | "learner", "text", ...}``."""
    answers: Annotated[list[JSON], operator.add]
    """Every answer: skill, correct, whether it counted, and the model's P(correct) before it."""
    redactions: Annotated[list[JSON], operator.add]
    """Each tutor message part the answer guard had to redact: turn, move, how many mentions."""
