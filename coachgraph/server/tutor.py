"""The tutor over HTTP: a web page at ``/tutor`` and the API it drives under ``/v1/tutor``.

The API follows the server's key rules (the app's edge guard asks every ``/v1`` request for the
bearer key when one is set); the page and its assets (`PAGE_PATHS`) hold no data and load
without a key, and ask for it. Starting a session
and replying stream the tutor's words as server-sent events (``token`` events with the text as
it is written, then one ``view`` event with the session as it stands, or an ``error`` event),
so the page shows the words as they come.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from coachgraph.errors import InputError
from coachgraph.graphs.tutor.learners import check_name
from coachgraph.graphs.tutor.replies import MAX_REPLY_CHARS, parse_reply
from coachgraph.graphs.tutor.session import SessionView, TutorSessions

__all__ = ["PAGE_PATHS", "ReplyRequest", "StartRequest", "tutor_router"]

_ASSETS = {"tutor.js": "text/javascript", "tutor.css": "text/css"}
PAGE_PATHS = frozenset({"/tutor", *(f"/tutor/{name}" for name in _ASSETS)})
"""The page and its assets: served without the key."""


class StartRequest(BaseModel):
    """Start a session."""

    learner: str = Field(min_length=1, max_length=64)
    targets: list[str] = Field(default_factory=list, max_length=64)
    session: str | None = Field(default=None, max_length=64)


class ReplyRequest(BaseModel):
    """The learner's reply: an answer, ``hint``, ``solution`` or ``end``."""

    text: str = Field(min_length=1, max_length=MAX_REPLY_CHARS)


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def _streamed(work: Callable[[Callable[[str], None]], SessionView]) -> StreamingResponse:
    """Run `work` in a thread and stream what it emits, then the resulting view."""
    events: queue.Queue[str | None] = queue.Queue()

    def run() -> None:
        try:
            events.put(_event("view", work(lambda text: events.put(_event("token", {"text": text}))).as_json()))
        except InputError as exc:
            events.put(_event("error", {"field": exc.source, "message": str(exc)}))
        finally:
            events.put(None)

    threading.Thread(target=run, name="tutor-turn", daemon=True).start()

    def stream() -> Iterator[str]:
        while (item := events.get()) is not None:
            yield item

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _known(sessions: TutorSessions, session: str) -> str:
    try:
        check_name(session, "session")
    except InputError as exc:
        raise HTTPException(status_code=422, detail={"field": "session", "message": str(exc)}) from None
    if not sessions.exists(session):
        raise HTTPException(status_code=404, detail={"field": "session", "message": f"no session {session!r}"})
    return session


def _asset(name: str) -> str:
    return resources.files("coachgraph.server").joinpath("static", name).read_text(encoding="utf-8")


def _page_routes(router: APIRouter) -> None:
    @router.get("/tutor", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(_asset("tutor.html"))

    @router.get("/tutor/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in _ASSETS:
            raise HTTPException(status_code=404, detail="not found")
        return Response(_asset(name), media_type=_ASSETS[name])


def tutor_router(sessions: TutorSessions) -> APIRouter:
    """The page and the API over `sessions` (the app's edge guard checks the key)."""
    router = APIRouter()
    _page_routes(router)
    api = APIRouter(prefix="/v1/tutor", tags=["tutor"])

    @api.get("/learners/{learner}/sessions")
    def learner_sessions(learner: str) -> dict[str, Any]:
        try:
            return {"learner": learner, "sessions": sessions.sessions(learner)}
        except InputError as exc:
            raise HTTPException(status_code=422, detail={"field": "learner", "message": str(exc)}) from None

    @api.post("/sessions")
    def start(body: StartRequest) -> StreamingResponse:
        try:
            check_name(body.learner, "learner")
            if body.session is not None:
                check_name(body.session, "session")
        except InputError as exc:
            raise HTTPException(status_code=422, detail={"field": exc.source, "message": str(exc)}) from None
        return _streamed(lambda emit: sessions.start(body.learner, body.targets, session=body.session, emit=emit))

    @api.get("/sessions/{session}")
    def view(session: str) -> dict[str, Any]:
        return sessions.resume(_known(sessions, session)).as_json()

    @api.get("/sessions/{session}/history")
    def history(session: str) -> dict[str, Any]:
        name = _known(sessions, session)
        return {"transcript": sessions.view(name).transcript, "checkpoints": sessions.checkpoints(name)}

    @api.post("/sessions/{session}/reply")
    def reply(session: str, body: ReplyRequest) -> StreamingResponse:
        name = _known(sessions, session)
        try:
            parsed = parse_reply(body.text)
        except InputError as exc:
            raise HTTPException(status_code=422, detail={"field": "body.text", "message": str(exc)}) from None
        return _streamed(lambda emit: sessions.reply(name, parsed, emit=emit))

    router.include_router(api)
    return router
