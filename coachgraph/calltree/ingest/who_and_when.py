"""`who-and-when`: the Who&When failure-attribution logs (Magentic-One and AG2 group chats).

Hand-crafted logs: each `Orchestrator (-> X)` message is a handoff node under the root and the
next `X` message is X's turn under it; other orchestrator messages are its own turns.
Algorithm-generated logs: each expert turn is a child of the team root and `Computer_terminal`
runs are tool children of the preceding expert turn. One node per history step (attribute
`step`), so the `mistake_step` label points at a node (`labels["mistake_node"]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NotRequired

from pydantic import TypeAdapter, with_config
from typing_extensions import TypedDict

from coachgraph.calltree.ingest._builder import TreeBuilder
from coachgraph.calltree.ingest._stream import load_json
from coachgraph.calltree.ingest.base import (
    STRICT,
    Item,
    Rejected,
    Sample,
    TraceFormat,
    check,
    register_format,
    wrong,
)
from coachgraph.calltree.schema import CallTree, PoolEntry

__all__ = ["WhoAndWhenFormat"]

_HANDOFF = re.compile(r"^Orchestrator \(-> (?P<target>.+)\)$")
_TERMINAL = "Computer_terminal"
MAGENTIC_ONE = [
    PoolEntry(name="Orchestrator", kind="agent",
              description="Plans the task, keeps a progress ledger and hands subtasks to agents."),
    PoolEntry(name="WebSurfer", kind="agent",
              description="Drives a web browser: searches, opens and reads pages, clicks, types."),
    PoolEntry(name="FileSurfer", kind="agent",
              description="Opens and reads local files (documents, spreadsheets, media)."),
    PoolEntry(name="Assistant", kind="agent",
              description="A general language-model agent that reasons and writes code."),
    PoolEntry(name="ComputerTerminal", kind="agent",
              description="Runs the code other agents write and reports its output."),
]
TERMINAL_TOOL = PoolEntry(name=_TERMINAL, kind="tool",
                          description="Executes the code in the last message; returns exit code "
                                      "and output.")


@with_config(STRICT)
class _Turn(TypedDict):
    role: str
    content: Any


@with_config(STRICT)
class _GroupTurn(TypedDict):
    name: str
    content: Any
    role: NotRequired[str | None]


@with_config(STRICT)
class _HandCrafted(TypedDict):
    question: str
    history: list[_Turn]
    mistake_step: NotRequired[str | int | None]
    is_corrected: NotRequired[bool | str | None]


@with_config(STRICT)
class _Generated(TypedDict):
    question: str
    history: list[_GroupTurn]
    system_prompt: dict[str, str]
    mistake_step: NotRequired[str | int | None]
    is_correct: NotRequired[bool | str | None]


_SHAPES = {False: TypeAdapter(_HandCrafted), True: TypeAdapter(_Generated)}
"""The two kinds of log, by whether they carry a `system_prompt`."""


def _flag(value: Any) -> bool | None:
    return {"true": True, "false": False}.get(str(value).strip().lower())


def _step(value: str | int | None) -> int | None:
    """The `mistake_step` as a number (the logs write it as a string of digits)."""
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise wrong("$.mistake_step", "a step number", value)
        return int(value)
    return value


def _labels(record: dict[str, Any], step_ids: list[str]) -> dict[str, Any]:
    labels = {k: record[k] for k in ("mistake_agent", "mistake_reason", "ground_truth",
                                     "question_ID", "level", "mistake_type") if k in record}
    step = _step(record.get("mistake_step"))
    if step is not None:
        labels["mistake_step"] = step
        if 0 <= step < len(step_ids):
            labels["mistake_node"] = step_ids[step]
    return labels


def _hand_crafted(b: TreeBuilder, record: dict[str, Any]) -> list[str]:
    root = b.add(kind="chain", name="Magentic-One", inputs={"question": record["question"]})
    open_calls: dict[str, str] = {}
    ids = []
    for step, entry in enumerate(record["history"]):
        role, content = entry["role"], entry["content"]
        handoff = _HANDOFF.match(role)
        if handoff:
            node = b.add(root, kind="handoff", name=role, agent="Orchestrator", outputs=content,
                         attributes={"step": step, "to_agent": handoff["target"]})
            open_calls[handoff["target"]] = node
        elif role.startswith("Orchestrator") or role == "human":
            node = b.add(root, kind="agent" if role != "human" else "other", name=role,
                         agent="Orchestrator" if role != "human" else None, outputs=content,
                         attributes={"step": step})
        else:
            node = b.add(open_calls.pop(role, root), kind="agent", name=role, agent=role,
                         outputs=content, attributes={"step": step})
        ids.append(node)
    return ids


def _algorithm_generated(b: TreeBuilder, record: dict[str, Any]) -> list[str]:
    root = b.add(kind="chain", name="group_chat", inputs={"question": record["question"]})
    speaker: tuple[str, str] | None = None
    ids = []
    for step, entry in enumerate(record["history"]):
        name, content = entry["name"], entry["content"]
        attrs = {"step": step, "role": entry.get("role")}
        if name == _TERMINAL:
            parent, caller = speaker if speaker else (root, None)
            node = b.add(parent, kind="tool", name=name, tool=name, agent=caller,
                         outputs=content, attributes=attrs)
        else:
            node = b.add(root, kind="agent", name=name, agent=name, outputs=content,
                         attributes=attrs)
            speaker = (node, name)
        ids.append(node)
    return ids


def _tree(path: Path, record: dict[str, Any]) -> CallTree:
    generated = isinstance(record, dict) and "system_prompt" in record
    check(_SHAPES[generated], record)
    b = TreeBuilder(f"who-and-when:{path.parent.name}:{path.stem}")
    ids = (_algorithm_generated if generated else _hand_crafted)(b, record)
    pool = ([PoolEntry(name=k, kind="agent", description=v)
             for k, v in record["system_prompt"].items()] + [TERMINAL_TOOL]
            if generated else MAGENTIC_ONE)
    success = _flag(record.get("is_correct", record.get("is_corrected")))
    return CallTree(trace_id=b.trace_id, source="who-and-when", task=record["question"],
                    success=success, outcome="failure" if success is False else None,
                    nodes=b.nodes, pool=pool, labels=_labels(record, ids),
                    attributes={"subset": path.parent.name})


@register_format("who-and-when")
class WhoAndWhenFormat(TraceFormat):
    """One JSON file per log (`Algorithm-Generated/*.json`, `Hand-Crafted/*.json`)."""

    title = "a Who&When log"
    patterns = ("*.json",)

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        record = sample.record
        return (sample.layout == "object" and isinstance(record, dict)
                and "question" in record and "history" in record)

    def read_file(self, path: Path) -> Iterator[Item]:
        source, record = load_json(path, self.limits)
        if isinstance(record, Rejected):
            yield record
            return
        yield self.convert(source, lambda: _tree(path, record), record)
