"""The `tutor` graph: open -> plan -> teach -> listen (interrupt) -> diagnose -> plan -> teach -> ...

`build_tutor_graph(checkpointer=..., store=...)` is the factory library users call (a SQLite or
PostgreSQL saver makes sessions resumable, a store keeps learner models across sessions);
`graph` is compiled without either for `langgraph.json`, where the server brings its own.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from coachgraph.graphs.tutor.context import TutorContext
from coachgraph.graphs.tutor.nodes import (
    close_node,
    diagnose_node,
    listen_node,
    open_node,
    plan_node,
    teach_node,
)
from coachgraph.graphs.tutor.routing import after_listen
from coachgraph.graphs.tutor.state import TutorState

__all__ = ["NODES", "TutorGraph", "build_tutor_graph", "graph"]

NODES = {
    "open": open_node,
    "plan": plan_node,
    "teach": teach_node,
    "listen": listen_node,
    "diagnose": diagnose_node,
    "close": close_node,
}
"""Node name -> node function."""


TutorGraph = CompiledStateGraph[TutorState, TutorContext, TutorState, TutorState]
"""The compiled tutor graph's type."""


def build_tutor_graph(*, checkpointer: BaseCheckpointSaver | None = None,
                      store: BaseStore | None = None) -> TutorGraph:
    """Compile the tutor graph; start a session with ``{"learner": NAME, "targets": [...]}`` and
    ``context=TutorContext(...)``, answer with ``Command(resume=TEXT)``."""
    builder = StateGraph(TutorState, context_schema=TutorContext)
    for name, node in NODES.items():
        builder.add_node(name, node)
    builder.add_edge(START, "open")
    builder.add_edge("open", "plan")
    builder.add_edge("plan", "teach")
    builder.add_edge("teach", "listen")
    builder.add_conditional_edges("listen", after_listen, ["diagnose", "close"])
    builder.add_edge("diagnose", "plan")
    builder.add_edge("close", END)
    return builder.compile(checkpointer=checkpointer, store=store, name="tutor")


graph = build_tutor_graph()
"""The tutor graph without a checkpointer (for `langgraph.json` and the LangGraph server)."""
