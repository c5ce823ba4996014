"""The `tutor` graph: an interactive, resumable tutoring session over a learner model (BKT over
the domain's prerequisite graph), with its state, context, nodes, routing, session driver and
benchmark."""

from __future__ import annotations

from coachgraph.graphs.tutor.context import TutorContext
from coachgraph.graphs.tutor.graph import NODES, build_tutor_graph, graph
from coachgraph.graphs.tutor.state import TutorState

__all__ = ("NODES", "TutorContext", "TutorState", "build_tutor_graph", "graph")
