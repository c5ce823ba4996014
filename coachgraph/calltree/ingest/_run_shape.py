"""The shape of a LangSmith run record: what the reader needs of it, checked strictly, so a
wrong-typed field is named by its JSON path before any run of its trace is used."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NotRequired

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from coachgraph.calltree.ingest.base import STRICT, check, describe_error, record_path

__all__ = ["run_problem"]


def _iso(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("an ISO 8601 time") from None
    return value


def _decimal(value: str) -> str:
    try:
        float(value)
    except ValueError:
        raise ValueError("a number (or its decimal string)") from None
    return value


_IsoTime = Annotated[str, AfterValidator(_iso)]
_Id = Annotated[str, Field(min_length=1)]
_Decimal = Annotated[str, AfterValidator(_decimal)]
_Session = str | int
"""A conversation id in LangChain metadata (LangGraph takes any `thread_id`; stored as text)."""


@with_config(STRICT)
class _Usage(TypedDict):
    input_tokens: NotRequired[int | None]
    output_tokens: NotRequired[int | None]
    total_tokens: NotRequired[int | None]


@with_config(STRICT)
class _Metadata(TypedDict):
    langgraph_node: NotRequired[str | None]
    langgraph_checkpoint_ns: NotRequired[str | None]
    lc_agent_name: NotRequired[str | None]
    thread_id: NotRequired[_Session | None]
    session_id: NotRequired[_Session | None]
    conversation_id: NotRequired[_Session | None]
    usage_metadata: NotRequired[_Usage | None]


@with_config(STRICT)
class _Extra(TypedDict):
    metadata: NotRequired[_Metadata | None]


@with_config(STRICT)
class _Run(TypedDict):
    id: _Id
    trace_id: _Id
    name: str
    parent_run_id: NotRequired[str | None]
    run_type: NotRequired[str | None]
    dotted_order: NotRequired[str | None]
    start_time: NotRequired[_IsoTime | None]
    end_time: NotRequired[_IsoTime | None]
    status: NotRequired[str | None]
    error: NotRequired[str | None]
    session_id: NotRequired[str | None]
    tags: NotRequired[list[Any] | None]
    extra: NotRequired[_Extra | None]
    prompt_tokens: NotRequired[int | None]
    completion_tokens: NotRequired[int | None]
    total_tokens: NotRequired[int | None]
    total_cost: NotRequired[float | _Decimal | None]


_RUN = TypeAdapter(_Run)
"""What the reader needs of a run record (checked before any run of its trace is used)."""


def run_problem(source: str, run: Any) -> str | None:
    """Why a run record cannot be read (its fields by JSON path), or None when it can."""
    try:
        check(_RUN, run)
    except (ValidationError, ValueError) as exc:
        return describe_error(exc, record_path(source))
    return None
