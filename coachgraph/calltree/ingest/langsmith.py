"""`langsmith`: exported LangSmith runs (a JSON array or JSON Lines of run records).

The tree comes from `parent_run_id`, sibling order from `dotted_order`, the kind from
`run_type`; LangGraph node identity (`extra.metadata.langgraph_node`) names the agent, and tool
runs named `transfer_to_*` / `transfer_back_to_*` are handoffs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest._run_shape import run_problem
from coachgraph.calltree.ingest._stream import iter_json_array, iter_jsonl
from coachgraph.calltree.ingest.base import (
    Item,
    Rejected,
    Sample,
    TraceFormat,
    excerpt,
    register_format,
)
from coachgraph.calltree.ingest.otlp import first_text
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["LangSmithFormat"]

RUN_TYPES: dict[str, str] = {
    "tool": "tool", "chain": "chain", "llm": "llm", "retriever": "retriever",
    "embedding": "other", "prompt": "other", "parser": "other",
}
_HANDOFF_PREFIXES = ("transfer_to_", "transfer_back_to_")
_USAGE = ("prompt_tokens", "completion_tokens", "total_tokens", "total_cost")
_STATUS = {"success": "ok", "error": "error"}


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _kind(run: dict[str, Any]) -> str:
    kind = RUN_TYPES.get(str(run.get("run_type")), "other")
    return "handoff" if kind == "tool" and str(run["name"]).startswith(_HANDOFF_PREFIXES) else kind


def _node(run: dict[str, Any], known: set[str]) -> CallNode:
    meta = (run.get("extra") or {}).get("metadata") or {}
    kind = _kind(run)
    parent = str(run["parent_run_id"]) if run.get("parent_run_id") else None
    return CallNode(
        id=str(run["id"]), parent_id=parent if parent in known else None,
        trace_id=str(run["trace_id"]), session_id=meta.get("thread_id") or run.get("session_id"),
        kind=kind, name=str(run["name"]), agent=meta.get("langgraph_node"),
        tool=str(run["name"]) if kind == "tool" else None, inputs=run.get("inputs"),
        outputs=run.get("outputs"), start=_time(run.get("start_time")),
        end=_time(run.get("end_time")), error=run.get("error"),
        status=_STATUS.get(str(run.get("status")), "error" if run.get("error") else "unset"),
        usage={k: run[k] for k in _USAGE if isinstance(run.get(k), int | float)},
        attributes={k: v for k, v in {"dotted_order": run.get("dotted_order"), "tags":
                    run.get("tags"), "metadata": meta or None}.items() if v},
    )


def _tree(trace_id: str, runs: list[dict[str, Any]]) -> CallTree:
    known = {str(r["id"]) for r in runs}
    ordered = sorted(runs, key=lambda r: str(r.get("dotted_order") or r.get("start_time") or ""))
    nodes = [_node(r, known) for r in ordered]
    root = next((n for n in nodes if n.parent_id is None), None)
    if root is None:
        raise ValueError("the runs' parent links form a cycle (no run is the root)")
    success = {"ok": True, "error": False}.get(root.status)
    return CallTree(trace_id=trace_id, source="langsmith", task=first_text(root.inputs),
                    success=success, session_id=root.session_id, nodes=nodes)


@register_format("langsmith")
class LangSmithFormat(TraceFormat):
    """Run records grouped into traces by `trace_id`; a trace with a bad run is rejected whole."""

    title = "LangSmith runs"

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        record = sample.record
        return (sample.layout in ("array", "lines") and isinstance(record, dict)
                and "trace_id" in record and ("run_type" in record or "dotted_order" in record))

    def read_file(self, path: Path) -> Iterator[Item]:
        records = (iter_jsonl(path, self.limits, holds=True) if path.suffix == ".jsonl"
                   else iter_json_array(path, limits=self.limits, holds=True))
        traces: dict[str, list[dict[str, Any]]] = {}
        bad: dict[str, str] = {}
        first: dict[str, str] = {}
        broken: Rejected | None = None
        for source, run in records:
            readable = run.partial if isinstance(run, Rejected) else run
            trace_id = readable.get("trace_id") if isinstance(readable, dict) else None
            problem = None if isinstance(run, Rejected) else run_problem(source, run)
            if isinstance(run, Rejected) or problem:
                rejected = run if isinstance(run, Rejected) else Rejected(
                    source=source, reason=problem or "", **excerpt(run, self.limits))
                yield rejected
                if isinstance(trace_id, str) and trace_id:
                    bad.setdefault(trace_id, source)
                else:
                    broken = rejected
                continue
            traces.setdefault(trace_id, []).append(run)
            first.setdefault(trace_id, source)
        for trace_id, runs in traces.items():
            reason = (f"trace may be incomplete: {broken.source}" if broken else
                      f"trace has a bad run: {bad[trace_id]}" if trace_id in bad else None)
            yield (Rejected(source=first[trace_id], reason=reason, **excerpt(runs, self.limits))
                   if reason else self.convert(first[trace_id],
                                               lambda t=trace_id, r=runs: _tree(t, r), runs))
