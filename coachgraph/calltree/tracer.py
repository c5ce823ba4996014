"""Record our own LangGraph runs as calling trees, through LangChain's callback system.

Pass `CallTreeTracer(store)` in `config={"callbacks": [...]}`: every graph node, model call,
tool call and retriever call becomes a `CallNode`, and when the top-level run ends the whole
trace is written to the store in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from pydantic_core import to_jsonable_python

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.ingest.otlp import first_text
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["CallTreeTracer"]

logger = logging.getLogger(__name__)

_HANDOFF_PREFIXES = ("transfer_to_", "transfer_back_to_")


def _jsonable(value: Any) -> Any:
    """Inputs and outputs as JSON values (messages and models dumped, anything else as repr)."""
    return to_jsonable_python(value, fallback=repr)


def _now() -> datetime:
    return datetime.now(UTC)


def _name(serialized: dict[str, Any] | None, kwargs: dict[str, Any], default: str) -> str:
    if kwargs.get("name"):
        return str(kwargs["name"])
    serialized = serialized or {}
    return str(serialized.get("name") or (serialized.get("id") or [default])[-1])


def _usage(response: LLMResult) -> dict[str, int | float]:
    for generations in response.generations:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                return {k: v for k, v in dict(usage).items() if isinstance(v, int | float)}
    return dict((response.llm_output or {}).get("token_usage") or {})


class CallTreeTracer(BaseCallbackHandler):
    """A callback handler that turns each top-level run into one stored `CallTree`.

    Args:
        store: where finished traces go.
        session_id: stored on every node (e.g. the LangGraph thread id).
        success: maps the top-level run's outputs to the trace's success label (None: unknown).
    """

    raise_error = False

    def __init__(
        self, store: CallTreeStore, *, session_id: str | None = None,
        success: Callable[[Any], bool | None] | None = None,
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.success = success
        self.finished: list[str] = []
        """Trace ids written so far, in order."""
        self._nodes: dict[str, CallNode] = {}
        self._lock = threading.Lock()

    def _start(self, run_id: UUID, parent_run_id: UUID | None, **fields: Any) -> None:
        metadata = fields.pop("metadata", None) or {}
        with self._lock:
            parent = self._nodes.get(str(parent_run_id)) if parent_run_id else None
            trace_id = parent.trace_id if parent else str(run_id)
            self._nodes[str(run_id)] = CallNode(
                id=str(run_id), parent_id=parent.id if parent else None, trace_id=trace_id,
                session_id=self.session_id, start=_now(),
                agent=fields.pop("agent", None) or metadata.get("langgraph_node"),
                attributes={k: _jsonable(v) for k, v in metadata.items()
                            if k.startswith("langgraph_")}, **fields)

    def _end(self, run_id: UUID, outputs: Any = None, error: BaseException | None = None,
             **fields: Any) -> None:
        with self._lock:
            node = self._nodes.get(str(run_id))
            if node is None:
                return
            node.end, node.outputs = _now(), _jsonable(outputs)
            node.status = "error" if error is not None else "ok"
            node.error = f"{type(error).__name__}: {error}" if error is not None else None
            for key, value in fields.items():
                setattr(node, key, value)
            if node.parent_id is None:
                self._finish(node)

    def _finish(self, root: CallNode) -> None:
        nodes = [n for n in self._nodes.values() if n.trace_id == root.trace_id]
        for node in nodes:
            del self._nodes[node.id]
        success = False if root.status == "error" else (
            self.success(root.outputs) if self.success else None)
        tree = CallTree(trace_id=root.trace_id, source="coachgraph-tracer",
                        task=first_text(root.inputs), success=success,
                        session_id=self.session_id, nodes=nodes)
        self.store.put_tree(tree)
        self.finished.append(tree.trace_id)
        logger.info("recorded trace %s (%d nodes)", tree.trace_id, len(nodes))

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, metadata: dict[str, Any] | None = None,
                       **kwargs: Any) -> None:
        name = _name(serialized, kwargs, "chain")
        is_node = (metadata or {}).get("langgraph_node") == name
        self._start(run_id, parent_run_id, kind="agent" if is_node else "chain", name=name,
                    inputs=_jsonable(inputs), metadata=metadata)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def on_chat_model_start(self, serialized: dict[str, Any] | None,
                            messages: Sequence[Sequence[Any]], *, run_id: UUID,
                            parent_run_id: UUID | None = None,
                            metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, kind="llm", name=_name(serialized, kwargs, "chat"),
                    inputs=_jsonable(messages), metadata=metadata)

    def on_llm_start(self, serialized: dict[str, Any] | None, prompts: list[str], *,
                     run_id: UUID, parent_run_id: UUID | None = None,
                     metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, kind="llm", name=_name(serialized, kwargs, "llm"),
                    inputs=list(prompts), metadata=metadata)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        texts = [g.text for generations in response.generations for g in generations]
        self._end(run_id, texts, usage=_usage(response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, metadata: dict[str, Any] | None = None,
                      inputs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        name = _name(serialized, kwargs, "tool")
        kind = "handoff" if name.startswith(_HANDOFF_PREFIXES) else "tool"
        self._start(run_id, parent_run_id, kind=kind, name=name, tool=name,
                    inputs=_jsonable(inputs if inputs is not None else input_str),
                    metadata=metadata)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, output)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def on_retriever_start(self, serialized: dict[str, Any] | None, query: str, *, run_id: UUID,
                           parent_run_id: UUID | None = None,
                           metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, kind="retriever",
                    name=_name(serialized, kwargs, "retriever"), inputs=query, metadata=metadata)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, documents)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)
