"""The tracer records a real LangGraph run (nodes, model call, tool call) as one calling tree."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph

from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.calltree.tracer import CallTreeTracer
from tests.fakes import ScriptedChatModel


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def explode(a: int) -> int:
    """Always fails."""
    raise ValueError("no")


class State(TypedDict, total=False):
    question: str
    answer: str
    total: int


def _graph(llm: ScriptedChatModel, fail: bool = False) -> Any:
    def student(state: State) -> dict[str, Any]:
        return {"answer": str(llm.invoke(state["question"]).content)}

    def critic(state: State) -> dict[str, Any]:
        return {"total": (explode if fail else add).invoke({"a": 2, "b": 2})}

    graph = StateGraph(State)
    graph.add_node("student", student)
    graph.add_node("critic", critic)
    graph.add_edge(START, "student")
    graph.add_edge("student", "critic")
    graph.add_edge("critic", END)
    return graph.compile()


def test_records_nodes_model_and_tool_calls(scripted_chat: type[ScriptedChatModel]) -> None:
    store = SQLiteCallTreeStore(":memory:")
    tracer = CallTreeTracer(store, session_id="thread-1", success=lambda out: out["total"] == 4)
    _graph(scripted_chat(answers=["four"])).invoke({"question": "What is 2+2?"},
                                                   config={"callbacks": [tracer]})
    assert len(tracer.finished) == 1
    tree = store.get_tree(tracer.finished[0])
    assert tree is not None
    assert (tree.task, tree.success, tree.source) == ("What is 2+2?", True, "coachgraph-tracer")
    by_name = {n.name: n for n in tree.nodes}
    assert by_name["student"].kind == "agent" and by_name["critic"].kind == "agent"
    assert by_name["ScriptedChatModel"].kind == "llm"
    assert by_name["ScriptedChatModel"].parent_id == by_name["student"].id
    assert by_name["ScriptedChatModel"].outputs == ["four"]
    assert by_name["add"].tool == "add" and by_name["add"].agent == "critic"
    assert by_name["add"].parent_id == by_name["critic"].id and by_name["add"].outputs == 4
    assert all(n.session_id == "thread-1" and n.status == "ok" for n in tree.nodes)
    assert all(n.duration_s is not None and n.duration_s >= 0 for n in tree.nodes)
    assert len(tree.roots()) == 1


def test_failed_run_is_recorded_as_failure(scripted_chat: type[ScriptedChatModel]) -> None:
    store = SQLiteCallTreeStore(":memory:")
    tracer = CallTreeTracer(store)
    with pytest.raises(ValueError, match="no"):
        _graph(scripted_chat(answers=["four"]), fail=True).invoke(
            {"question": "q"}, config={"callbacks": [tracer]})
    tree = store.get_tree(tracer.finished[0])
    assert tree is not None and tree.success is False
    failed = [n for n in tree.nodes if n.status == "error"]
    assert {n.name for n in failed} >= {"explode", "critic"}
    assert "ValueError: no" in (failed[0].error or "")


def test_a_routing_edge_from_start_is_control_flow_not_an_agent() -> None:
    builder = StateGraph(State)
    builder.add_node("billing", lambda state: {"answer": "refunded"})
    builder.add_node("shipping", lambda state: {"answer": "shipped"})
    builder.add_conditional_edges(START, lambda state: "billing", ["billing", "shipping"])
    builder.add_edge("billing", END)
    builder.add_edge("shipping", END)
    store = SQLiteCallTreeStore(":memory:")
    builder.compile().invoke({"question": "refund please"}, {"callbacks": [CallTreeTracer(store)]})
    tree = store.get_tree(store.trace_ids()[0])
    assert [n.name for n in tree.nodes if n.kind == "agent"] == ["billing"]
    assert any(n.name == "__start__" and n.kind == "chain" for n in tree.nodes)
