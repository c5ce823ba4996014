"""The `orchestrate` graph: for each task the recommender picks a team from an agent pool, the team
runs as a supervisor that hands off through tools, the critic judges it, every call is traced,
and the recommender is retrained on those traces as the run goes; with its run driver, outputs
and benchmark."""

from __future__ import annotations

from coachgraph.graphs.orchestrate.config import DEFAULT_TASK_SKILLS, OrchestrateConfig
from coachgraph.graphs.orchestrate.context import STORE_FILE, OrchestrateContext, check_orchestrate
from coachgraph.graphs.orchestrate.graph import NODES, build_orchestrate_graph, graph
from coachgraph.graphs.orchestrate.outputs import (
    RoundSummary,
    plot_rounds,
    plot_team,
    round_summaries,
)
from coachgraph.graphs.orchestrate.policy import POLICIES, Choice, MemberOutcomes, PolicyInputs
from coachgraph.graphs.orchestrate.recommender import RecommenderHandle
from coachgraph.graphs.orchestrate.run import (
    OrchestrateResult,
    load_orchestrate_run,
    orchestrate_run,
)
from coachgraph.graphs.orchestrate.state import Assignment, OrchestrateState

__all__ = (
    "DEFAULT_TASK_SKILLS",
    "NODES",
    "POLICIES",
    "STORE_FILE",
    "Assignment",
    "Choice",
    "MemberOutcomes",
    "OrchestrateConfig",
    "OrchestrateContext",
    "OrchestrateResult",
    "OrchestrateState",
    "PolicyInputs",
    "RecommenderHandle",
    "RoundSummary",
    "build_orchestrate_graph",
    "check_orchestrate",
    "graph",
    "load_orchestrate_run",
    "orchestrate_run",
    "plot_rounds",
    "plot_team",
    "round_summaries",
)
