"""The tutor's session driver: start, answer, resume, list, show and prune sessions over one
checkpointer and store location (a SQLite file, or a PostgreSQL DSN), for the command line and
the web page alike.

Every step is saved before the next begins (durability ``sync``). A session killed while the
tutor writes resumes at the node that was writing: `view` and `reply` first finish any run a
kill cut short, so the learner finds the message they would have seen.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from coachgraph.errors import InputError
from coachgraph.graphs.runs import (
    check_graph_db,
    graph_store,
    open_checkpointer,
    prune_checkpoints,
    thread_ids,
)
from coachgraph.graphs.tutor.context import TutorContext
from coachgraph.graphs.tutor.graph import build_tutor_graph
from coachgraph.graphs.tutor.learners import (
    check_name,
    fit_store,
    learner_history,
    list_sessions,
    load_model,
    save_session,
)
from coachgraph.graphs.tutor.nodes import check_targets
from coachgraph.graphs.tutor.replies import parse_reply

__all__ = ["DATABASE", "Emit", "SessionView", "TutorSessions"]

DATABASE = "coachgraph tutor database"
"""What a sessions location is called in errors."""

logger = logging.getLogger(__name__)

Emit = Callable[[str], None]
"""Receives the tutor's words as they are written."""


@dataclass(frozen=True, slots=True)
class SessionView:
    """What a client shows of a session (never the open problem's answer)."""

    session_id: str
    learner: str
    status: str
    """``active`` (waiting for the learner) or ``ended``."""
    turn: int
    message: str
    """The tutor's latest message."""
    problem: str | None
    skill: str | None
    targets: list[str]
    plan: dict[str, Any]
    mastery: dict[str, float]
    mastered: list[str]
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The view as plain JSON."""
        return {name: getattr(self, name) for name in self.__slots__}


def _view(values: dict[str, Any]) -> SessionView:
    model = values.get("learner_model", {})
    skills = model.get("skills", {})
    threshold = float(model.get("threshold", 0.95))
    problem = values.get("problem") or {}
    plan = {k: values.get("plan", {}).get(k) for k in ("next", "order", "weak", "review", "reason", "targets")}
    return SessionView(
        session_id=values.get("session_id", ""), learner=values.get("learner", ""),
        status=values.get("status", "active"), turn=int(values.get("turn", 0)),
        message=values.get("message", {}).get("text", ""), problem=problem.get("question"), skill=problem.get("skill"),
        targets=list(values.get("targets", [])), plan=plan,
        mastery={s: round(float(v["mastery"]), 4) for s, v in skills.items()},
        mastered=[s for s, v in skills.items() if float(v["mastery"]) >= threshold],
        transcript=[{k: e.get(k) for k in ("turn", "role", "text", "kind", "moves")} for e in values.get("transcript", [])])


class TutorSessions:
    """Tutoring sessions kept at one location.

    Args:
        location: a SQLite file (sessions and learners in one file) or a ``postgresql://`` DSN.
        context: the tutor's context (domain, teacher model, library, seed).
        domain_spec: the spec the context's domain was built from, recorded with each session so
            that it resumes on the same problems.
        create: whether a missing SQLite file may be created (else: `InputError`, as for a file
            that is not the tutor's).
    """

    def __init__(self, location: str | Path, context: TutorContext, domain_spec: str = "arithmetic", *,
                 create: bool = True) -> None:
        self.location, self.context, self.domain_spec = str(location), context, domain_spec
        check_graph_db(self.location, create=create, what=DATABASE)
        self._stack = ExitStack()
        self.saver = self._stack.enter_context(open_checkpointer(self.location))
        self.store = self._stack.enter_context(graph_store(self.location))
        self.graph = build_tutor_graph(checkpointer=self.saver, store=self.store)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        """Close the checkpointer and the store."""
        self._stack.close()

    def __enter__(self) -> TutorSessions:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def _config(session: str) -> RunnableConfig:
        return {"configurable": {"thread_id": check_name(session, "session")}}

    @contextmanager
    def _locked(self, session: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(session, threading.Lock())
        if not lock.acquire(timeout=600):
            raise InputError(f"session {session} is busy", source="session")
        try:
            yield
        finally:
            lock.release()

    def _drive(self, inputs: Any, session: str, emit: Emit | None) -> None:
        for mode, chunk in self.graph.stream(inputs, self._config(session), context=self.context,
                                             stream_mode=["custom", "updates"], durability="sync"):
            if mode == "custom" and emit is not None and isinstance(chunk, dict):
                emit(str(chunk.get("text", "")))

    def _finish_cut_run(self, session: str, emit: Emit | None) -> None:
        """Run the nodes a kill left pending, up to the learner's turn."""
        state = self.graph.get_state(self._config(session))
        if state.next and not state.interrupts:
            logger.info("session %s: finishing %s, cut short before", session, ", ".join(state.next))
            self._drive(None, session, emit)

    def exists(self, session: str) -> bool:
        """Whether the session has been started."""
        return bool(self.graph.get_state(self._config(session)).values)

    def start(self, learner: str, targets: list[str] | None = None, session: str | None = None,
              emit: Emit | None = None) -> SessionView:
        """Start a session for `learner` (a new id unless `session` is given), up to the first problem."""
        check_name(learner, "learner")
        targets = check_targets(targets, self.context.domain)
        session = session or uuid.uuid4().hex[:12]
        with self._locked(session):
            if self.exists(session):
                raise InputError(f"session {session} exists already; resume it instead", source="session")
            self._drive({"learner": learner, "targets": targets}, session, emit)
            save_session(self.store, learner, session, {"domain_spec": self.domain_spec})
            return self.view(session)

    def reply(self, session: str, text: Any, emit: Emit | None = None) -> SessionView:
        """Give the learner's reply (an answer, ``hint``, ``solution`` or ``end``) and run the tutor.

        The reply is checked first, so a malformed one is refused without touching the session.
        """
        reply = parse_reply(text)
        with self._locked(session):
            self._finish_cut_run(session, emit)
            state = self.graph.get_state(self._config(session))
            if not state.interrupts:
                raise InputError(f"session {session} is not waiting for a reply (status: "
                                 f"{state.values.get('status', 'not started')})", source="session")
            self._drive(Command(resume=reply), session, emit)
            return self.view(session)

    def resume(self, session: str, emit: Emit | None = None) -> SessionView:
        """The session as it stands, after finishing any run a kill cut short."""
        with self._locked(session):
            self._finish_cut_run(session, emit)
            return self.view(session)

    def view(self, session: str) -> SessionView:
        """What the session shows now.

        Raises:
            InputError: no such session.
        """
        values = self.graph.get_state(self._config(session)).values
        if not values:
            raise InputError(f"no session {session!r}", source="session")
        return _view(values)

    def checkpoints(self, session: str) -> list[dict[str, Any]]:
        """The session's saved checkpoints, newest first: step, next nodes, time."""
        return [{"checkpoint_id": s.config["configurable"]["checkpoint_id"], "step": (s.metadata or {}).get("step"),
                 "next": list(s.next), "created_at": s.created_at}
                for s in self.graph.get_state_history(self._config(session))]

    def sessions(self, learner: str) -> list[dict[str, Any]]:
        """The learner's sessions, most recently used first."""
        return list_sessions(self.store, learner)

    def session_record(self, learner: str, session: str) -> dict[str, Any] | None:
        """The store's record of one session of `learner` (None when there is none)."""
        return next((s for s in self.sessions(learner) if s["session_id"] == session), None)

    def learner(self, learner: str) -> dict[str, Any]:
        """The learner's model in this domain and their answer history."""
        model = load_model(self.store, learner, self.context.domain.name)
        return {"model": model.model_dump(mode="json") if model else None,
                "history": learner_history(self.store, learner, self.context.domain.name)}

    def prune(self, sessions: list[str] | None = None) -> dict[str, tuple[int, int]]:
        """Keep only the latest checkpoint of `sessions` (all sessions when None); the transcript
        and the learner's history stay, since they live in that checkpoint and in the store."""
        threads = [check_name(s, "session") for s in sessions] if sessions else thread_ids(self.saver)
        return prune_checkpoints(self.saver, threads)

    def fit(self, min_answers: int = 50) -> dict[str, dict[str, Any]]:
        """Fit BKT parameters to every learner's history in this domain (see `fit_store`)."""
        return fit_store(self.store, self.context.domain.name, min_answers=min_answers,
                         default=self.context.default_params)
