"""What every reader of foreign traces derives the same way: task text, outcome, session, usage.

Clients write a trace's task in many shapes (a string, OpenAI-style or OpenTelemetry GenAI
messages, LangChain messages serialized as constructors or as `{"type", "data"}`, a LangGraph
`{"messages": [...]}` state); `first_text` finds the user's words in all of them. Token counts
arrive under each convention's names and are stored under ours: `input_tokens`,
`output_tokens`, `total_tokens`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coachgraph.calltree.schema import CallNode

__all__ = ["TOKEN_NAMES", "first_text", "tree_outcome", "usage_from"]

TOKEN_NAMES: dict[str, str] = {
    "gen_ai.usage.input_tokens": "input_tokens",
    "gen_ai.usage.prompt_tokens": "input_tokens",
    "gen_ai.usage.output_tokens": "output_tokens",
    "gen_ai.usage.completion_tokens": "output_tokens",
    "gen_ai.usage.total_tokens": "total_tokens",
    "llm.usage.total_tokens": "total_tokens",
    "llm.token_count.prompt": "input_tokens",
    "llm.token_count.completion": "output_tokens",
    "llm.token_count.total": "total_tokens",
    "prompt_tokens": "input_tokens",
    "completion_tokens": "output_tokens",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "total_tokens": "total_tokens",
}
"""Token-count names of OpenTelemetry GenAI (latest and older), Traceloop, OpenInference and
LangSmith / LangChain `usage_metadata` → ours."""

_TEXT_KEYS = ("content", "text", "parts", "messages", "input", "query", "question")
_USER_ROLES = frozenset({"user", "human"})
_NOT_TASKS = frozenset({"tool", "handoff", "retriever"})
"""Nodes whose inputs are a call's arguments, never the trace's task."""


def _role(message: Any) -> str | None:
    """The role of a message in any of the shapes above (None for anything else)."""
    if not isinstance(message, dict):
        return None
    if message.get("lc") == 1 and isinstance(message.get("kwargs"), dict):
        ids = message.get("id")
        kind = message["kwargs"].get("type") or (
            str(ids[-1]).removesuffix("Message").lower() if isinstance(ids, list) and ids else None)
        return str(kind) if kind else None
    role = message.get("role") or message.get("type")
    return str(role) if role is not None else None


def first_text(value: Any) -> str | None:
    """The first piece of text in a message list or value, preferring the user's message.

    >>> first_text({"messages": [{"role": "system", "content": "Be brief."},
    ...                          {"role": "user", "content": "Plan a trip"}]})
    'Plan a trip'
    >>> first_text([{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}])
    'Hi'
    >>> first_text({"lc": 1, "type": "constructor", "kwargs": {"content": "Go", "type": "human"}})
    'Go'
    >>> first_text({"type": "human", "data": {"content": "Hello"}})
    'Hello'
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        user = next((m for m in value if _role(m) in _USER_ROLES), value[0])
        return first_text(user)
    if isinstance(value, dict):
        if value.get("lc") == 1 and "kwargs" in value:
            return first_text(value["kwargs"])
        if set(value) >= {"type", "data"} and isinstance(value["data"], dict):
            return first_text(value["data"])
        for key in _TEXT_KEYS:
            if key in value:
                return first_text(value[key])
    return None


def usage_from(values: dict[str, Any]) -> dict[str, int | float]:
    """Token counts under our names, from any convention's names (first name found wins).

    >>> usage_from({"llm.token_count.prompt": 4, "gen_ai.usage.output_tokens": 2, "x": 1})
    {'input_tokens': 4, 'output_tokens': 2}
    """
    usage: dict[str, int | float] = {}
    for key, value in values.items():
        name = TOKEN_NAMES.get(key)
        if name and name not in usage and isinstance(value, int | float) \
                and not isinstance(value, bool):
            usage[name] = value
    return usage


def tree_outcome(source: str, nodes: Sequence[CallNode]) -> dict[str, Any]:
    """The trace-level fields of a foreign trace: task, outcome and session.

    The task is the first user text in the inputs of the first node that carries one (the
    root's, unless it records none; a tool's arguments are never the task). The trace succeeded
    when its root ended without error, whether its status is `ok` or left unset as
    OpenTelemetry asks of instrumentations; it failed when the root failed, and its outcome is
    unknown while the root has not ended. The session is the first one any node names.
    """
    root = next((n for n in nodes if n.parent_id is None), None)
    success = None
    if root is not None and root.status == "error":
        success = False
    elif root is not None and (root.status == "ok" or root.end is not None):
        success = True
    task = next((t for t in (first_text(n.inputs) for n in nodes
                             if n.inputs is not None and n.kind not in _NOT_TASKS) if t), None)
    session = next((n.session_id for n in nodes if n.session_id), None)
    return {"source": source, "task": task, "success": success, "session_id": session}
