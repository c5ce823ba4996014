"""Record our own LangGraph runs as calling trees, through LangChain's callback system.

Pass `CallTreeTracer(store)` in `config={"callbacks": [...]}`: every graph node, model call,
tool call and retriever call becomes a `CallNode`, and when the top-level run ends the whole
trace is written to the store in one transaction.

A long run (a curriculum run of hundreds of steps) should not keep its trace in memory until it
ends: give the tracer a fixed `trace_id` and call `flush()` whenever a graph step is saved. Each
flush appends the finished subtrees so far, so a killed run's store holds the calls of every
finished step, and a resumed run (a new top-level run with the same `trace_id`) appends to the
same trace.
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
        trace_id: put every top-level run into this one trace, written as it grows (`flush`);
            None gives each top-level run a trace of its own, written when it ends.
        task: the task recorded on a trace given by `trace_id` (else read from the root's inputs).
        position: with `trace_id`, maps a graph step's inputs to where the run is (e.g. a training
            step counter); a step made again at the same position by a resumed run replaces the
            earlier record of it. None uses LangGraph's superstep number, which a run that forks
            back from an earlier checkpoint does not repeat.
    """

    raise_error = False

    def __init__(
        self, store: CallTreeStore, *, session_id: str | None = None,
        success: Callable[[Any], bool | None] | None = None, trace_id: str | None = None,
        task: str | None = None, position: Callable[[Any], int | str | None] | None = None,
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.success = success
        self.trace_id = trace_id
        self.task = task
        self.position = position
        self.finished: list[str] = []
        """Trace ids written so far, in order."""
        self._nodes: dict[str, CallNode] = {}
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def _start(self, run_id: UUID, parent_run_id: UUID | None, **fields: Any) -> None:
        metadata = fields.pop("metadata", None) or {}
        with self._lock:
            parent = self._nodes.get(str(parent_run_id)) if parent_run_id else None
            trace_id = parent.trace_id if parent else (self.trace_id or str(run_id))
            self._nodes[str(run_id)] = CallNode(
                id=self._node_id(run_id, parent, fields.get("name"), metadata, fields.get("inputs")),
                parent_id=parent.id if parent else None, trace_id=trace_id,
                session_id=self.session_id, start=_now(),
                agent=fields.pop("agent", None) or metadata.get("langgraph_node"),
                attributes={k: _jsonable(v) for k, v in metadata.items()
                            if k.startswith("langgraph_")}, **fields)

    def _node_id(self, run_id: UUID, parent: CallNode | None, name: Any, metadata: dict[str, Any],
                 inputs: Any) -> str:
        """The run id, except for a graph's own steps in a fixed trace: those are named by their
        position and node, so a step a resumed run makes again replaces its earlier record."""
        top = parent is not None and parent.parent_id is None
        if not (self.trace_id and top and metadata.get("langgraph_node") == name):
            return str(run_id)
        where = self.position(inputs) if self.position else metadata.get("langgraph_step")
        return str(run_id) if where is None else f"{self.trace_id}:step-{where}:{name}"

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

    def _head(self, root: CallNode, success: bool | None) -> CallTree:
        return CallTree(trace_id=root.trace_id, source="coachgraph-tracer",
                        task=self.task or first_text(root.inputs), success=success,
                        session_id=self.session_id)

    def _finish(self, root: CallNode) -> None:
        keys = [k for k, n in self._nodes.items() if n.trace_id == root.trace_id]
        nodes = [self._nodes.pop(k) for k in keys]
        success = False if root.status == "error" else (
            self.success(root.outputs) if self.success else None)
        head = self._head(root, success)
        if self.trace_id is None:
            self.store.put_tree(CallTree(**{**dict(head), "nodes": nodes}))
        else:
            self.store.append_nodes(head, nodes, replace=[n.id for n in nodes if n.id.startswith(f"{head.trace_id}:step-")])
        self.finished.append(head.trace_id)
        logger.info("recorded trace %s (%d nodes)", head.trace_id, len(nodes))

    def flush(self, hold_last: bool = False) -> int:
        """Append the roots and every finished subtree under them to the store; returns how many
        nodes were written. Only a tracer with a fixed `trace_id` flushes.

        With `hold_last`, the subtree of the top-level call that ended last stays in memory: a
        graph's driver sees a node's update before LangGraph has surely saved its writes, so the
        calls of that node are written at the next flush, once the next step has begun.
        """
        if self.trace_id is None:
            return 0
        with self._lock:
            ready = _flushable(list(self._nodes.values()), self._written)
            if hold_last:
                ready = _without_last_top_call(ready)
            roots = [n for n in ready if n.parent_id is None]
            if not roots:
                return 0
            head = self._head(roots[0], None)
            steps = [n.id for n in ready if n.id.startswith(f"{self.trace_id}:step-")]
            self.store.append_nodes(head, ready, replace=steps)
            self._written.update(n.id for n in ready)
            done = {n.id for n in ready if n.parent_id is not None}
            for key in [k for k, n in self._nodes.items() if n.id in done]:
                del self._nodes[key]
            return len(ready)

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, metadata: dict[str, Any] | None = None,
                       **kwargs: Any) -> None:
        name = _name(serialized, kwargs, "chain")
        # LangGraph's own steps (``__start__``, which runs a routing edge from START) are control
        # flow, not agents a recommender could choose
        is_node = (metadata or {}).get("langgraph_node") == name and not name.startswith("__")
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


def _flushable(nodes: list[CallNode], written: set[str]) -> list[CallNode]:
    """Roots, and finished nodes whose parent is a root, written already, or itself flushable:
    a node ends after its children, so these are whole subtrees of finished calls."""
    by_id = {n.id: n for n in nodes}
    memo: dict[str, bool] = {}

    def ready(node: CallNode) -> bool:
        if node.id not in memo:
            parent = by_id.get(node.parent_id) if node.parent_id else None
            memo[node.id] = node.parent_id is None or (node.end is not None and (
                node.parent_id in written or (parent is not None and ready(parent))))
        return memo[node.id]

    return [n for n in nodes if ready(n)]


def _without_last_top_call(nodes: list[CallNode]) -> list[CallNode]:
    """`nodes` less the subtree of the direct child of a root that ended last."""
    by_id = {n.id: n for n in nodes}
    roots = {n.id for n in nodes if n.parent_id is None}
    tops = [n for n in nodes if n.parent_id in roots and n.end is not None]
    if not tops:
        return nodes
    last = max(tops, key=lambda n: n.end or n.start).id

    def under_last(node: CallNode | None) -> bool:
        while node is not None and node.id != last and node.parent_id is not None:
            node = by_id.get(node.parent_id)
        return node is not None and node.id == last

    return [n for n in nodes if not under_last(n)]
