"""The HTTP API: next-agent and team recommendations over one store (FastAPI, OpenAPI schema).

Requests are validated by pydantic with size limits, so an oversized or malformed body gets a
422 naming the field; when an API key is configured, every route but ``/healthz`` requires it as
a bearer token.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from coachgraph.errors import InputError
from coachgraph.recommend.recommender import Recommendation
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.team import Team

__all__ = ["API_KEY_ENV", "STORE_ENV", "NextRequest", "NextResponse", "TeamRequest", "app_from_env", "create_app"]

STORE_ENV = "COACHGRAPH_STORE"
"""Environment variable naming the store, read by `app_from_env`."""
API_KEY_ENV = "COACHGRAPH_API_KEY"
"""Environment variable holding the bearer API key (unset or empty: no key required)."""

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


def _auth(api_key: str | None) -> Callable[..., None]:
    bearer = HTTPBearer(auto_error=False)

    async def check(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:  # noqa: B008
        if api_key is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(status_code=401, detail="missing or wrong bearer API key",
                                headers={"WWW-Authenticate": "Bearer"})

    return check


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [".".join(str(p) for p in err["loc"]) for err in exc.errors()]
    detail = [{"field": f, "message": err["msg"]} for f, err in zip(fields, exc.errors(), strict=True)]
    return JSONResponse(status_code=422, content={"detail": detail, "fields": fields})


def create_app(store_path: str, api_key: str | None = None, service: RecommendService | None = None) -> FastAPI:
    """The API over the store at `store_path`, answered by `service` (by default its trained model,
    loaded; `coachgraph recommend train` trains one)."""
    svc = service or RecommendService(store_path)
    app = FastAPI(title="coachgraph recommender", version="1")
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    guard = [Depends(_auth(api_key))]

    @app.get("/healthz")
    def healthz() -> dict[str, str | int]:
        return {"status": "ok", "items": len(svc.recommender.catalog)}

    @app.post("/v1/recommend/next", dependencies=guard)
    async def recommend_next(body: NextRequest) -> NextResponse:
        """Answered on the event loop: a query takes about a millisecond, less than a thread hop costs."""
        try:
            ranked = svc.next(task=body.task, trace_id=body.trace_id, node_id=body.node_id, k=body.k,
                              kind=body.kind, candidates=body.candidates)
        except InputError as exc:
            raise HTTPException(status_code=404, detail={"field": exc.source, "message": str(exc)}) from None
        return NextResponse(recommendations=ranked)

    @app.post("/v1/recommend/team", dependencies=guard)
    def recommend_team(body: TeamRequest) -> Team:
        """Answered in the thread pool: exact team search can take tens of milliseconds."""
        return svc.team(task=body.task, max_size=body.max_size, candidates=body.candidates,
                        costs=body.costs, budget=body.budget)

    return app


def app_from_env() -> FastAPI:
    """`create_app` configured by `STORE_ENV` and `API_KEY_ENV`: the factory each server worker calls.

    Raises:
        InputError: `STORE_ENV` is not set.
    """
    store = os.environ.get(STORE_ENV)
    if not store:
        raise InputError(f"set {STORE_ENV} to the store to serve", source=STORE_ENV)
    return create_app(store, api_key=os.environ.get(API_KEY_ENV) or None)
