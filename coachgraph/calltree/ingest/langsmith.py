"""`langsmith`: LangSmith runs (a JSON array or JSON Lines of run records).

A record is a run as LangSmith's `Run` schema holds it (what `Client.list_runs` returns) or as
the SDK sends it (a created run merged with its update). The tree comes from `parent_run_id`,
sibling order from `dotted_order`, the kind from `run_type`; `extra.metadata` is LangChain's run
metadata: the session is its `thread_id` (or `session_id`, `conversation_id`, as LangSmith groups
threads; a run's own `session_id` is its project), and with `lc_agent_name` and
`langgraph_checkpoint_ns` it names the agent of each run (`_langgraph.refine`). Token counts come
from `prompt_tokens` / `completion_tokens` / `total_tokens`, else from
`extra.metadata.usage_metadata`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest._foreign import tree_outcome, usage_from
from coachgraph.calltree.ingest._langgraph import Hints, refine, session_of
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
from coachgraph.calltree.ingest.limits import Held
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["LangSmithFormat"]

RUN_TYPES: dict[str, str] = {
    "tool": "tool", "chain": "chain", "llm": "llm", "retriever": "retriever",
    "embedding": "other", "prompt": "other", "parser": "other",
}
_TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")
_STATUS = {"success": "ok", "error": "error"}


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _metadata(run: dict[str, Any]) -> dict[str, Any]:
    extra = run.get("extra")
    metadata = extra.get("metadata") if isinstance(extra, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _cost(value: Any) -> float | None:
    """A cost as LangSmith writes it (a number, or a decimal in a string), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _usage(run: dict[str, Any], metadata: dict[str, Any]) -> dict[str, int | float]:
    usage = usage_from({k: run[k] for k in _TOKENS if k in run})
    if not usage and isinstance(metadata.get("usage_metadata"), dict):
        usage = usage_from(metadata["usage_metadata"])
    cost = _cost(run.get("total_cost"))
    return usage | ({"total_cost": cost} if cost is not None else {})


def _status(run: dict[str, Any]) -> str:
    if str(run.get("status")) in _STATUS:
        return _STATUS[str(run["status"])]
    return "error" if run.get("error") else "ok" if run.get("end_time") else "unset"


def _fields(run: dict[str, Any], known: set[str]) -> dict[str, Any]:
    meta = _metadata(run)
    kind = RUN_TYPES.get(str(run.get("run_type")), "other")
    parent = str(run["parent_run_id"]) if run.get("parent_run_id") else None
    attributes = {"dotted_order": run.get("dotted_order"), "tags": run.get("tags"),
                  "metadata": meta or None, "project_id": run.get("session_id")}
    return {
        "id": str(run["id"]), "parent_id": parent if parent in known else None,
        "trace_id": str(run["trace_id"]), "session_id": session_of(meta), "kind": kind,
        "name": str(run["name"]), "agent": None, "tool": str(run["name"]) if kind == "tool" else None,
        "inputs": run.get("inputs"), "outputs": run.get("outputs"),
        "start": _time(run.get("start_time")), "end": _time(run.get("end_time")),
        "error": run.get("error"), "status": _status(run), "usage": _usage(run, meta),
        "attributes": {k: str(v) if k == "project_id" else v for k, v in attributes.items() if v},
    }


def _tree(trace_id: str, runs: list[dict[str, Any]]) -> CallTree:
    known = {str(r["id"]) for r in runs}
    ordered = sorted(runs, key=lambda r: str(r.get("dotted_order") or r.get("start_time") or ""))
    fields = [_fields(r, known) for r in ordered]
    refine(fields, [Hints(metadata=_metadata(r)) for r in ordered])
    nodes = [CallNode(**f) for f in fields]
    return CallTree(trace_id=trace_id, nodes=nodes, **tree_outcome("langsmith", nodes))


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
        held = Held(self.limits.max_held_bytes)
        records = (iter_jsonl(path, self.limits, held=held) if path.suffix == ".jsonl"
                   else iter_json_array(path, limits=self.limits, held=held))
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
