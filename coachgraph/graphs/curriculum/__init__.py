"""The `curriculum` graph: a student trained on problems a curriculum algorithm picks, with its
state, context, nodes, routing, run driver, outputs and benchmark."""

from __future__ import annotations

from coachgraph.graphs.curriculum.benchmark import (
    BenchConfig,
    bench_table,
    run_curriculum_bench,
    summarize,
)
from coachgraph.graphs.curriculum.config import DEFAULT_SKILLS, AgentConfig, RunConfig
from coachgraph.graphs.curriculum.context import CurriculumContext, check_run, curriculum_configs
from coachgraph.graphs.curriculum.graph import NODES, build_curriculum_graph, graph
from coachgraph.graphs.curriculum.run import RunResult, load_run, train_run
from coachgraph.graphs.curriculum.state import CurriculumState

__all__ = (
    "DEFAULT_SKILLS",
    "NODES",
    "AgentConfig",
    "BenchConfig",
    "CurriculumContext",
    "CurriculumState",
    "RunConfig",
    "RunResult",
    "bench_table",
    "build_curriculum_graph",
    "check_run",
    "curriculum_configs",
    "graph",
    "load_run",
    "run_curriculum_bench",
    "summarize",
    "train_run",
)
