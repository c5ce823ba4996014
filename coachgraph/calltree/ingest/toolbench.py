"""`toolbench-dfsdt`: ToolBench DFSDT answer files, a literal depth-first search tree per query.

The search tree keeps its shape: `Thought` nodes are model steps (kind `llm`), `Action` nodes
are tool choices (kind `tool`, the tool named in `description`, `Finish` included) and
`Action Input` nodes carry the arguments and the observation. Sibling subtrees are alternative
attempts after backtracking. The tree's depth-0 node becomes the root, holding the query.
Success is `win` and `finish_type == give_answer`; the offered functions are the tree's pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest._builder import TreeBuilder
from coachgraph.calltree.ingest._stream import load_json
from coachgraph.calltree.ingest.base import (
    STRICT,
    FieldError,
    Item,
    Rejected,
    Sample,
    TraceFormat,
    check,
    register_format,
    wrong,
)
from coachgraph.calltree.schema import CallTree, PoolEntry

__all__ = ["ToolBenchDfsdtFormat"]

@with_config(STRICT)
class _Node(TypedDict):
    node_type: Literal["Thought", "Action", "Action Input"]
    description: NotRequired[Any]
    observation: NotRequired[Any]
    children: NotRequired[list[_Node]]


@with_config(STRICT)
class _Function(TypedDict):
    name: Annotated[str, Field(min_length=1)]
    description: NotRequired[str]
    parameters: NotRequired[Any]


@with_config(STRICT)
class _Answer(TypedDict):
    query: str
    final_answer: NotRequired[Any]
    finish_type: NotRequired[str | None]
    function: NotRequired[list[_Function]]


@with_config(STRICT)
class _Search(TypedDict):
    tree: _Node


@with_config(STRICT)
class _Record(TypedDict):
    answer_generation: _Answer
    tree: _Search
    win: NotRequired[bool | None]


_SHAPE = TypeAdapter(_Record)

_KEPT = ("is_terminal", "pruned", "finished", "depth", "Elo", "expand_num", "observation_code")
_LABELS = ("win", "finish_type", "valid_data", "query_count", "total_tokens")


def _parsed(text: Any) -> Any:
    try:
        return loads(text) if isinstance(text, str) and text.strip() else text
    except ValueError:
        return text


def _thought(raw: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "llm", "name": "Thought", "outputs": raw.get("description")}


def _action(raw: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(raw.get("description"), str):
        raise wrong("$.description", "the name of the tool (a string)", raw.get("description"))
    return {"kind": "tool", "name": raw["description"], "tool": raw["description"]}


def _action_input(raw: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "other", "name": "Action Input", "inputs": _parsed(raw.get("description")),
            "outputs": _parsed(raw.get("observation"))}


_NODE_TYPES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "Thought": _thought, "Action": _action, "Action Input": _action_input,
}


def _walk(b: TreeBuilder, parent: str, raw: dict[str, Any], path: str) -> None:
    try:
        fields = _NODE_TYPES[raw["node_type"]](raw)
    except FieldError as exc:
        raise exc.under(path[1:]) from None
    node = b.add(parent, attributes={k: raw[k] for k in _KEPT if k in raw}, **fields)
    for index, child in enumerate(raw.get("children", [])):
        _walk(b, node, child, f"{path}.children[{index}]")


def _tree(trace_id: str, record: dict[str, Any]) -> CallTree:
    check(_SHAPE, record)
    answer = record["answer_generation"]
    search = record["tree"]["tree"]
    b = TreeBuilder(trace_id)
    root = b.add(kind="chain", name="DFSDT", inputs={"query": answer["query"]},
                 outputs=answer.get("final_answer"),
                 attributes={"forward_args": record.get("forward_args")})
    for index, child in enumerate(search.get("children", [])):
        _walk(b, root, child, f"$.tree.tree.children[{index}]")
    labels = {"win": record.get("win"), **{k: answer[k] for k in _LABELS[1:] if k in answer}}
    pool = [PoolEntry(name=f["name"], kind="tool", description=f.get("description", ""),
                      inputs=f.get("parameters")) for f in answer.get("function", [])]
    success = bool(record.get("win")) and answer.get("finish_type") == "give_answer"
    return CallTree(trace_id=trace_id, source="toolbench-dfsdt", task=answer["query"],
                    success=success, outcome=answer.get("finish_type"), nodes=b.nodes,
                    pool=pool, labels=labels)


@register_format("toolbench-dfsdt")
class ToolBenchDfsdtFormat(TraceFormat):
    """Answer files `G*_answer/*.json` (a folder is searched for them; query files are skipped)."""

    title = "a ToolBench DFSDT answer file"
    patterns = ("*_answer/*.json",)

    @classmethod
    def recognises(cls, sample: Sample) -> bool:
        record = sample.record
        return (sample.layout == "object" and isinstance(record, dict)
                and "answer_generation" in record and "tree" in record)

    def read_file(self, path: Path) -> Iterator[Item]:
        source, record = load_json(path, self.limits)
        if isinstance(record, Rejected):
            yield record
            return
        trace_id = f"toolbench:{path.parent.name.removesuffix('_answer')}:{path.stem}"
        yield self.convert(source, lambda: _tree(trace_id, record), record)
