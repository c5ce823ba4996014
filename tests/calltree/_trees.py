"""Small hand-built calling trees shared by the calltree tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coachgraph.calltree.schema import CallNode, CallTree, PoolEntry

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def sample_tree(trace_id: str = "trace-1", success: bool | None = True) -> CallTree:
    """planner → (search tool, critic agent → calc tool); timed, with usage and one error."""

    def node(node_id: str, parent: str | None, seconds: int, **fields: object) -> CallNode:
        return CallNode(id=node_id, parent_id=parent, trace_id=trace_id,
                        start=T0 + timedelta(seconds=seconds),
                        end=T0 + timedelta(seconds=seconds + 1), **fields)

    return CallTree(
        trace_id=trace_id, source="test", task="Add two fractions and check the result",
        success=success, outcome="done", session_id="s1",
        nodes=[
            node("root", None, 0, kind="agent", name="planner", agent="planner",
                 inputs={"question": "1/2 + 1/3?"}, status="ok", session_id="s1"),
            node("c1", "root", 1, kind="tool", name="search", tool="search", agent="planner",
                 inputs={"q": "fractions"}, outputs=["doc"], usage={"input_tokens": 3}),
            node("c2", "root", 2, kind="agent", name="critic", agent="critic", user_id="u7",
                 attributes={"score": 0.5, "tags": ["a", "b"]}),
            node("c3", "c2", 3, kind="tool", name="calc", tool="calc", agent="critic",
                 status="error", error="ZeroDivisionError: division by zero"),
        ],
        pool=[PoolEntry(name="search", description="Web search"),
              PoolEntry(name="calc", description="Calculator", inputs={"expr": "str"}),
              PoolEntry(name="planner", kind="agent"), PoolEntry(name="critic", kind="agent")],
        labels={"mistake_agent": "critic", "mistake_node": "c3"},
    )
