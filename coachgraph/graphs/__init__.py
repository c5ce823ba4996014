"""The StateGraphs: the `curriculum` training loop and its run driver."""

from __future__ import annotations

from coachgraph.graphs.curriculum import NODES, build_curriculum_graph
from coachgraph.graphs.run import RunConfig, RunResult, load_run, train_run
from coachgraph.graphs.state import CurriculumState

__all__ = ("NODES", "CurriculumState", "RunConfig", "RunResult", "build_curriculum_graph", "load_run",
           "train_run")
