"""The `orchestrate` graph: prepare -> choose -> run_team (one branch per task) -> review (-> retrain) -> choose ...

`build_orchestrate_graph(checkpointer=..., store=...)` is the factory library users call (with a
SQLite or PostgreSQL saver to make runs resumable); `graph` is compiled without a checkpointer for
`langgraph.json`, where the server brings its own.
"""

from __future__ import annotations

from collections.abc import Callable

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from coachgraph.graphs.orchestrate.context import OrchestrateContext
from coachgraph.graphs.orchestrate.nodes import (
    choose_node,
    prepare_node,
    retrain_node,
    review_node,
    run_team_node,
)
from coachgraph.graphs.orchestrate.routing import after_retrain, after_review, fan_out
from coachgraph.graphs.orchestrate.state import OrchestrateState

__all__ = ["NODES", "OrchestrateGraph", "build_orchestrate_graph", "graph"]

NODES: dict[str, Callable[..., OrchestrateState]] = {
    "prepare": prepare_node,
    "choose": choose_node,
    "run_team": run_team_node,
    "review": review_node,
    "retrain": retrain_node,
}
"""Node name -> node function, in the order a round visits them."""

OrchestrateGraph = CompiledStateGraph[OrchestrateState, OrchestrateContext, OrchestrateState, OrchestrateState]
"""The compiled orchestrate graph's type."""


def build_orchestrate_graph(*, checkpointer: BaseCheckpointSaver | None = None,
                            store: BaseStore | None = None) -> OrchestrateGraph:
    """Compile the orchestrate graph; invoke it with ``context=OrchestrateContext(...)``."""
    builder = StateGraph(OrchestrateState, context_schema=OrchestrateContext)
    for name, node in NODES.items():
        builder.add_node(name, node)
    builder.add_edge(START, "prepare")
    builder.add_edge("prepare", "choose")
    builder.add_conditional_edges("choose", fan_out, ["run_team"])
    builder.add_edge("run_team", "review")
    builder.add_conditional_edges("review", after_review, ["retrain", "choose", "__end__"])
    builder.add_conditional_edges("retrain", after_retrain, ["choose", "__end__"])
    return builder.compile(checkpointer=checkpointer, store=store, name="orchestrate")


graph = build_orchestrate_graph()
"""The orchestrate graph without a checkpointer (for `langgraph.json` and the LangGraph server)."""
