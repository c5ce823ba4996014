"""The `curriculum` graph: planner -> teacher -> student -> critic -> learn (-> reflect) (-> evaluate) -> ...

`build_curriculum_graph(checkpointer=..., store=...)` is the factory library users call (with a
SQLite or PostgreSQL saver to make runs resumable); `graph` is compiled without a checkpointer for
`langgraph.json`, where the server brings its own.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from coachgraph.graphs.curriculum.context import CurriculumContext
from coachgraph.graphs.curriculum.nodes import (
    critic_node,
    evaluate_node,
    learn_node,
    planner_node,
    reflect_node,
    student_node,
    teacher_node,
)
from coachgraph.graphs.curriculum.routing import (
    after_evaluate,
    after_learn,
    after_reflect,
    at_start,
)
from coachgraph.graphs.curriculum.state import CurriculumState

__all__ = ["NODES", "CurriculumGraph", "build_curriculum_graph", "graph"]

NODES = {
    "planner": planner_node,
    "teacher": teacher_node,
    "student": student_node,
    "critic": critic_node,
    "learn": learn_node,
    "reflect": reflect_node,
    "evaluate": evaluate_node,
}
"""Node name -> node function, in the order one training step visits them."""

CurriculumGraph = CompiledStateGraph[CurriculumState, CurriculumContext, CurriculumState, CurriculumState]
"""The compiled curriculum graph's type."""

_CHAIN = ("planner", "teacher", "student", "critic", "learn")


def build_curriculum_graph(*, checkpointer: BaseCheckpointSaver | None = None,
                           store: BaseStore | None = None) -> CurriculumGraph:
    """Compile the curriculum graph; invoke it with ``context=CurriculumContext(...)``."""
    builder = StateGraph(CurriculumState, context_schema=CurriculumContext)
    for name, node in NODES.items():
        builder.add_node(name, node)
    builder.add_conditional_edges(START, at_start, ["evaluate", "planner"])
    for source, target in zip(_CHAIN, _CHAIN[1:], strict=False):
        builder.add_edge(source, target)
    builder.add_conditional_edges("learn", after_learn, ["reflect", "evaluate", "planner"])
    builder.add_conditional_edges("reflect", after_reflect, ["evaluate", "planner"])
    builder.add_conditional_edges("evaluate", after_evaluate, ["planner", "__end__"])
    return builder.compile(checkpointer=checkpointer, store=store, name="curriculum")


graph = build_curriculum_graph()
"""The curriculum graph without a checkpointer (for `langgraph.json` and the LangGraph server)."""
