"""The StateGraphs, one package each (`curriculum`, `tutor`, `orchestrate`),
what every graph run shares (`runs`), and the registry that feeds the command line and
``langgraph.json``."""

from __future__ import annotations

from coachgraph.graphs.curriculum import build_curriculum_graph
from coachgraph.graphs.orchestrate import build_orchestrate_graph
from coachgraph.graphs.registry import GRAPHS, GraphEntry, langgraph_config, register_graph
from coachgraph.graphs.tutor import build_tutor_graph

register_graph(GraphEntry(
    name="curriculum", factory=build_curriculum_graph, module="coachgraph.graphs.curriculum.graph",
    description="Train a student on problems a curriculum algorithm picks: planner, teacher, student, "
                "critic, learn, reflect, evaluate."))
register_graph(GraphEntry(
    name="tutor", factory=build_tutor_graph, module="coachgraph.graphs.tutor.graph",
    description="A resumable tutoring session: the critic diagnoses each answer, the planner plans the path to "
                "the target skills over a BKT learner model, the teacher tutors; waits for the learner with "
                "interrupt()."))
register_graph(GraphEntry(
    name="orchestrate", factory=build_orchestrate_graph, module="coachgraph.graphs.orchestrate.graph",
    description="Teams picked from an agent pool by the recommender run as supervisors, are judged by the critic "
                "and traced; the recommender is retrained on those traces as the rounds go."))

__all__ = ("GRAPHS", "GraphEntry", "langgraph_config", "register_graph")
