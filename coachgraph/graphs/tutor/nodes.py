"""The tutor graph's nodes: each reads the session's state, calls one role, returns an update.

`teach` is the only node that calls a model, and it runs before `listen`, the node that waits
for the learner with `interrupt()`: when a session resumes, LangGraph re-runs `listen` only, so
the learner never sees a message written twice or differently. Problem draws and model samples
are seeded by the session, the problem number and the turn, so a node re-run after a kill writes
what it wrote before; store writes use keys derived from the same, so they are not duplicated.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.types import interrupt

from coachgraph.agents import (
    HINT_LEVELS,
    Diagnosis,
    Written,
    diagnose,
    explain_skill,
    feedback,
    hint,
    leaks_answer,
    plan_learning,
    pose_problem,
    worked_solution,
)
from coachgraph.agents.prompts import render_prompt
from coachgraph.curriculum.learner import LearnerModel
from coachgraph.errors import InputError
from coachgraph.graphs.tutor.context import TutorContext
from coachgraph.graphs.tutor.learners import (
    check_name,
    fitted_params,
    load_model,
    record_answer,
    save_model,
    save_session,
)
from coachgraph.graphs.tutor.replies import parse_reply
from coachgraph.graphs.tutor.state import Outcome, TutorState
from coachgraph.seeding import derive_rng, derive_seed
from coachgraph.tasks import TaskDomain
from coachgraph.types import Task

__all__ = ["check_targets", "close_node", "diagnose_node", "default_targets", "listen_node", "open_node", "plan_node", "teach_node"]

logger = logging.getLogger(__name__)

_OUTCOMES: dict[str, Outcome] = {"answer": "wrong", "hint": "hint", "solution": "solution"}
"""What the tutor reacts to after a reply that is not a right answer (`end` never reaches diagnose)."""


def default_targets(domain: TaskDomain) -> list[str]:
    """The skills no other skill builds on (the ends of the prerequisite graph)."""
    needed = {p for pres in domain.prerequisites.values() for p in pres}
    return [s for s in domain.skills if s not in needed]


def check_targets(given: list[str] | None, domain: TaskDomain) -> list[str]:
    """The targets (the domain's end skills when none are given), each once.

    Raises:
        InputError: a target the domain does not have.
    """
    targets = list(dict.fromkeys(given or default_targets(domain)))
    unknown = [t for t in targets if t not in domain.skills]
    if unknown:
        raise InputError(f"unknown target skill {unknown[0]!r} in domain {domain.name}; known: "
                         f"{', '.join(domain.skills)}", source="targets")
    return targets


def _starting_model(store: BaseStore | None, learner: str, ctx: TutorContext) -> LearnerModel:
    params = fitted_params(store, ctx.domain.name, ctx.domain.skills, ctx.bkt, ctx.default_params)
    stored = load_model(store, learner, ctx.domain.name) if store is not None else None
    if stored is None:
        return LearnerModel.start(learner, ctx.domain.name, params, ctx.threshold)
    return stored.with_skills(params)


def _session_id(state: TutorState, runtime: Runtime[TutorContext]) -> str:
    thread = runtime.execution_info.thread_id if runtime.execution_info is not None else None
    return str(thread or state.get("session_id") or "session")


def open_node(state: TutorState, runtime: Runtime[TutorContext]) -> TutorState:
    """Start (or restart) the session: the learner's model from the store, the targets, the record."""
    ctx, store = runtime.context, runtime.store
    learner = check_name(state.get("learner", ""), "learner")
    session, targets = _session_id(state, runtime), check_targets(state.get("targets"), ctx.domain)
    model = _starting_model(store, learner, ctx)
    if store is not None:
        save_model(store, model)
        save_session(store, learner, session, {"domain": ctx.domain.name, "targets": targets, "status": "active",
                                               "turns": state.get("turn", 0)})
    logger.info("session %s of %s opened: targets %s", session, learner, targets)
    return {"learner": learner, "session_id": session, "domain": ctx.domain.name, "targets": targets,
            "learner_model": model.model_dump(mode="json"), "turn": state.get("turn", 0),
            "problem_number": state.get("problem_number", 0), "problem": None, "attempts": 0, "hint_level": 0,
            "counted": False, "outcome": "start", "status": "active", "diagnosis": None}


def plan_node(state: TutorState, runtime: Runtime[TutorContext]) -> TutorState:
    """The planner's path to the targets and the skill to practise next."""
    model = LearnerModel.model_validate(state["learner_model"])
    return {"plan": plan_learning(model, runtime.context.domain.prerequisites, state["targets"])}


def _check_domain(state: TutorState, ctx: TutorContext) -> None:
    if state.get("domain") and state["domain"] != ctx.domain.name:
        raise InputError(f"session {state.get('session_id')} draws from domain {state['domain']!r}, the context "
                         f"gives {ctx.domain.name!r}", source="domain")


def _draw(ctx: TutorContext, state: TutorState, skill: str, number: int, said: str) -> Task:
    """The next problem of `skill`: one whose answer neither its own question (``7 + 0``) nor the
    message so far happens to state, so hints about it can mention every number they need."""
    rng = derive_rng(ctx.seed, "tutor-problem", state.get("session_id", ""), number)
    task = ctx.domain.draw(skill, rng)
    for _ in range(20):
        if not leaks_answer(f"{said}\n{task.question}", task.answer):
            break
        task = ctx.domain.draw(skill, rng)
    return task


class _Message:
    """The parts of one tutor message, streamed as they are written."""

    def __init__(self, runtime: Runtime[TutorContext], turn: int) -> None:
        self.runtime, self.turn = runtime, turn
        self.parts: list[tuple[str, Written]] = []

    def emit(self, text: str) -> None:
        self.runtime.stream_writer({"turn": self.turn, "text": text})

    def add(self, move: str, write: Any) -> None:
        if self.parts:
            self.emit("\n")
        self.parts.append((move, write(self.emit)))

    @property
    def text(self) -> str:
        return "\n".join(w.text for _, w in self.parts)


def _model_options(ctx: TutorContext, state: TutorState, move: str) -> dict[str, Any]:
    seed = derive_seed(ctx.seed, "tutor-model", state.get("session_id", ""), state.get("turn", 0), move)
    return {"model": ctx.teacher_model, "library": ctx.library, "seed": seed, "temperature": ctx.temperature,
            "max_tokens": ctx.max_tokens, "skills_k": ctx.skills_k}


def _respond(message: _Message, state: TutorState, ctx: TutorContext, problem: Task | None) -> int:
    """Feedback, solution or hint on the open problem; returns the hint level now reached."""
    outcome, level = state.get("outcome", "start"), state.get("hint_level", 0)
    raw = state.get("diagnosis")
    diagnosis = Diagnosis(**raw) if raw else None
    if problem is not None and diagnosis is not None and outcome in ("correct", "wrong"):
        message.add("feedback", lambda emit: feedback(problem, diagnosis, emit))
    if problem is not None and outcome == "solution":
        message.add("solution", lambda emit: worked_solution(problem, emit))
    if problem is not None and outcome in ("wrong", "hint"):
        level = min(level + 1, HINT_LEVELS)
        rng = derive_rng(ctx.seed, "tutor-example", state.get("session_id", ""), state.get("turn", 0))
        options = _model_options(ctx, state, "hint")
        message.add("hint", lambda emit: hint(problem, diagnosis if outcome == "wrong" else None, level,
                                              domain=ctx.domain, rng=rng, emit=emit, **options))
    return level


def _pose(message: _Message, state: TutorState, ctx: TutorContext) -> tuple[Task, int]:
    """A new problem where the plan points, introduced when its skill is new to the learner."""
    plan, number = state["plan"], state.get("problem_number", 0) + 1
    skill = plan["next"]
    said = any("mastered" in m.get("moves", []) for m in state.get("transcript", []))
    if plan.get("review") and not said:
        message.add("mastered", lambda emit: _said(render_prompt("teacher", "tutor_mastered",
                                                                  targets=", ".join(state["targets"])), emit))
    task = _draw(ctx, state, skill, number, message.text)
    model = LearnerModel.model_validate(state["learner_model"])
    if ctx.explain_new_skills and model.skills[skill].answers == 0 and _last_skill(state) != skill:
        options = _model_options(ctx, state, "explain")
        message.add("explain", lambda emit: explain_skill(skill, task, emit=emit, **options))
    message.add("problem", lambda emit: pose_problem(task, number, emit))
    return task, number


def _said(text: str, emit: Any) -> Written:
    emit(text)
    return Written(text, text)


def _last_skill(state: TutorState) -> str | None:
    problem = state.get("problem")
    return problem["skill"] if problem else None


def teach_node(state: TutorState, runtime: Runtime[TutorContext]) -> TutorState:
    """The tutor's next message: feedback, a hint or a worked solution, and a new problem when the
    open one is solved or given up; hints and explanations pass the answer guard as they stream."""
    ctx = runtime.context
    _check_domain(state, ctx)
    turn, outcome = state.get("turn", 0), state.get("outcome", "start")
    problem = Task.model_validate(state["problem"]) if state.get("problem") else None
    message = _Message(runtime, turn)
    level = _respond(message, state, ctx, problem)
    update: TutorState = {"hint_level": level}
    if problem is None or outcome in ("start", "correct", "solution"):
        problem, number = _pose(message, state, ctx)
        update = {"problem": problem.model_dump(mode="json"), "problem_number": number, "attempts": 0,
                  "hint_level": 0, "counted": False}
    moves = [move for move, _ in message.parts]
    record = {"turn": turn, "role": "tutor", "moves": moves, "text": message.text, "skill": problem.skill,
              "problem": problem.question, "time": time.time()}
    redacted = [{"turn": turn, "move": move, "redactions": w.redactions, "by_model": w.by_model}
                for move, w in message.parts if w.redactions]
    return {**update, "message": record, "transcript": [record], "redactions": redacted}


def listen_node(state: TutorState, runtime: Runtime[TutorContext]) -> TutorState:
    """Wait for the learner (`interrupt`); the reply resumes the session here."""
    message, problem = state.get("message", {}), state.get("problem") or {}
    raw = interrupt({"session_id": state.get("session_id"), "learner": state.get("learner"),
                     "turn": state.get("turn", 0), "message": message.get("text", ""),
                     "problem": problem.get("question"), "skill": problem.get("skill"),
                     "plan": state.get("plan", {}).get("reason", "")})
    reply = parse_reply(raw)
    turn = state.get("turn", 0) + 1
    entry = {"turn": turn, "role": "learner", "kind": reply["kind"], "text": reply["text"], "time": time.time()}
    return {"reply": reply, "turn": turn, "transcript": [entry]}


def _fresh_model(store: BaseStore | None, state: TutorState) -> LearnerModel:
    """The learner model as stored now (other sessions may have moved it), else as in state."""
    mine = LearnerModel.model_validate(state["learner_model"])
    stored = load_model(store, mine.learner, mine.domain) if store is not None else None
    return stored or mine


def diagnose_node(state: TutorState, runtime: Runtime[TutorContext]) -> TutorState:
    """Check the answer, update the learner model with BKT and its prerequisites' evidence, and
    keep the answer in the learner's history.

    Every answer is an opportunity: between two attempts at a problem the tutor gives feedback
    and a hint, which the learner may learn from. A request for a hint or for the worked solution
    counts as not solved when it is the first action on the problem (as in tutoring logs)."""
    ctx, store = runtime.context, runtime.store
    task, reply = Task.model_validate(state["problem"]), state["reply"]
    session, turn = state["session_id"], state["turn"]
    found = diagnose(task, reply["text"], ctx.library) if reply["kind"] == "answer" else None
    correct = bool(found and found.correct)
    counts, event_id = reply["kind"] == "answer" or not state.get("counted", False), f"{session}:{turn}"
    before = _fresh_model(store, state)
    rerun = before.last_event == event_id
    predicted = (LearnerModel.model_validate(state["learner_model"]) if rerun else before).predict(task.skill)
    prerequisites = ctx.domain.prerequisites.get(task.skill, ())
    model = before.observe(task.skill, correct, event_id, prerequisites) if counts else before
    event = {"domain": model.domain, "skill": task.skill, "correct": correct, "counted": counts,
             "predicted": round(predicted, 6), "session": session, "turn": turn, "seq": model.events,
             "problem_id": task.id, "kind": reply["kind"], "mastery": round(model.mastery[task.skill], 6),
             "misconception": found.misconception if found else None}
    if store is not None:
        save_model(store, model)
        record_answer(store, model.learner, session, turn, event)
        save_session(store, model.learner, session, {"turns": turn, "status": "active"})
    outcome: Outcome = "correct" if correct else _OUTCOMES[reply["kind"]]
    return {"learner_model": model.model_dump(mode="json"), "diagnosis": found.as_json() if found else None,
            "outcome": outcome, "attempts": state.get("attempts", 0) + int(reply["kind"] == "answer"),
            "counted": True, "answers": [event]}


def close_node(state: TutorState, runtime: Runtime[TutorContext]) -> TutorState:
    """End the session at the learner's request with a summary of their mastery."""
    model = LearnerModel.model_validate(state["learner_model"])
    mastery = ", ".join(f"{s} {model.mastery[s]:.2f}" for s in state.get("targets", []))
    text = render_prompt("teacher", "tutor_farewell", answers=sum(1 for a in state.get("answers", []) if a["counted"]),
                         mastery=mastery)
    runtime.stream_writer({"turn": state.get("turn", 0), "text": text})
    if runtime.store is not None:
        save_session(runtime.store, model.learner, state["session_id"], {"status": "ended", "turns": state.get("turn", 0)})
    record = {"turn": state.get("turn", 0), "role": "tutor", "moves": ["farewell"], "text": text, "time": time.time()}
    return {"message": record, "transcript": [record], "status": "ended", "problem": None}
