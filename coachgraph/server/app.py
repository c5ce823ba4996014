"""The HTTP API: next-agent and team recommendations over one store (FastAPI, OpenAPI schema).

Every request passes `EdgeGuard` first: when an API key is configured, every path but
``/healthz`` (the docs and the schema included) needs it as a bearer token, checked before the
body is read; a body over `MAX_BODY_BYTES` gets 413 before it is read. Requests are then
validated by pydantic with size limits, so a malformed body or an oversized field gets a 422
naming the field. ``POST /v1/admin/reload`` loads a
retrained model without a restart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from coachgraph.errors import CoachgraphError, InputError
from coachgraph.recommend.recommender import Recommendation
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.team import Team
from coachgraph.server.guard import BODY_TIMEOUT_S, MAX_BODY_BYTES, PUBLIC_PATHS, EdgeGuard
from coachgraph.server.keys import API_KEY_ENV, check_key

__all__ = ["API_KEY_ENV", "STORE_ENV", "ModelState", "NextRequest", "NextResponse", "TeamRequest", "app_from_env",
           "create_app"]

STORE_ENV = "COACHGRAPH_STORE"
"""Environment variable naming the store, read by `app_from_env`."""

MAX_TASK_CHARS = 8000
MAX_CANDIDATES = 10000


class NextRequest(BaseModel):
    """Which agent or tool should be called next."""

    task: str = Field(min_length=1, max_length=MAX_TASK_CHARS)
    trace_id: str | None = Field(default=None, max_length=512)
    node_id: str | None = Field(default=None, max_length=512)
    k: int = Field(default=5, ge=1, le=100)
    kind: Literal["agent", "tool", "skill"] | None = None
    """Recommend only this kind; `None`: agents, tools and skills alike."""
    candidates: list[str] | None = Field(default=None, max_length=MAX_CANDIDATES)


class NextResponse(BaseModel):
    recommendations: list[Recommendation]


class TeamRequest(BaseModel):
    """Which small connected team should take on a task."""

    task: str = Field(min_length=1, max_length=MAX_TASK_CHARS)
    max_size: int = Field(default=4, ge=1, le=12)
    candidates: list[str] | None = Field(default=None, max_length=MAX_CANDIDATES)
    costs: dict[str, float] | None = Field(default=None, max_length=MAX_CANDIDATES)
    budget: float | None = Field(default=None, ge=0)


class ModelState(BaseModel):
    """The model a server answers with, after a reload request."""

    reloaded: bool
    """Whether a model file was loaded by this request (False: the loaded one is the newest)."""
    trained: str
    """When the model in use was trained (UTC, ISO 8601)."""
    trained_on: int
    """Traces it was trained on."""
    store_traces: int
    """Traces the store holds now."""
    fresh: bool
    """Whether the store is unchanged since training."""
    detail: str
    """How the store changed since training, in a sentence."""


def _documented_bearer(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi`, with the bearer key named on every operation outside `PUBLIC_PATHS`."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        schema = plain()
        schema.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if path not in PUBLIC_PATHS:
                    operation["security"] = [{"bearer": []}]
        return schema

    return openapi


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [".".join(str(p) for p in err["loc"]) for err in exc.errors()]
    detail = [{"field": f, "message": err["msg"]} for f, err in zip(fields, exc.errors(), strict=True)]
    return JSONResponse(status_code=422, content={"detail": detail, "fields": fields})


def create_app(store_path: str, api_key: str | None = None, service: RecommendService | None = None,
               max_body_bytes: int = MAX_BODY_BYTES, body_timeout_s: float = BODY_TIMEOUT_S) -> FastAPI:
    """The API over the store at `store_path`, answered by `service` (by default its trained model,
    loaded; `coachgraph recommend train` trains one).

    Args:
        store_path: the calling-tree store.
        api_key: the bearer key every path but ``/healthz`` needs; None (or empty) needs none.
        service: an already opened service over the store (else opened here).
        max_body_bytes: the largest request body read.
        body_timeout_s: the longest a client may take to send a body.
    """
    svc = service or RecommendService(store_path)
    app = FastAPI(title="coachgraph recommender", version="1")
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_middleware(EdgeGuard, api_key=api_key or None, max_body_bytes=max_body_bytes,  # type: ignore[arg-type]
                       body_timeout_s=body_timeout_s)
    if api_key:
        app.openapi = _documented_bearer(app)  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz() -> dict[str, str | int]:
        return {"status": "ok", "items": len(svc.recommender.catalog)}

    @app.post("/v1/recommend/next")
    async def recommend_next(body: NextRequest) -> NextResponse:
        """Answered on the event loop: a query takes about a millisecond, less than a thread hop costs."""
        try:
            ranked = svc.next(task=body.task, trace_id=body.trace_id, node_id=body.node_id, k=body.k,
                              kind=body.kind, candidates=body.candidates)
        except InputError as exc:
            raise HTTPException(status_code=404, detail={"field": exc.source, "message": str(exc)}) from None
        return NextResponse(recommendations=ranked)

    @app.post("/v1/recommend/team")
    def recommend_team(body: TeamRequest) -> Team:
        """Answered in the thread pool: exact team search can take tens of milliseconds."""
        return svc.team(task=body.task, max_size=body.max_size, candidates=body.candidates,
                        costs=body.costs, budget=body.budget)

    @app.post("/v1/admin/reload")
    def reload_model(force: bool = False) -> ModelState:
        """Load the store's model file again if it changed (or always, with `force`): a model
        retrained by `coachgraph recommend train` serves from the next request on. A file that
        cannot be served gets a 409 and the model in use keeps answering."""
        try:
            reloaded = svc.reload(force=force)
        except CoachgraphError as exc:
            raise HTTPException(status_code=409, detail={"message": str(exc)}) from None
        fresh = svc.freshness()
        return ModelState(reloaded=reloaded, trained=svc.info.created, trained_on=fresh.trained_on,
                          store_traces=fresh.now, fresh=fresh.fresh, detail=fresh.describe())

    return app


def app_from_env() -> FastAPI:
    """`create_app` configured by `STORE_ENV` and `API_KEY_ENV`: the factory each server worker calls.

    Raises:
        InputError: `STORE_ENV` is not set.
    """
    store = os.environ.get(STORE_ENV)
    if not store:
        raise InputError(f"set {STORE_ENV} to the store to serve", source=STORE_ENV)
    key = os.environ.get(API_KEY_ENV)
    return create_app(store, api_key=check_key(key, API_KEY_ENV) if key else None)
