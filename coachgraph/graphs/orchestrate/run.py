"""`orchestrate_run`: build a run's context, run the orchestrate graph with a checkpointer and a
tracer, write its outputs.

A run folder holds everything needed to resume: ``run.json`` (config and run id), the LangGraph
checkpoints (``checkpoints.sqlite``, thread id = run id), the run's own calling tree
(``calltrees.sqlite``), the teams' calling trees with the corpora copied in (``teams.sqlite``) and
the recommender trained on them beside it (``teams.sqlite.recommender/``).
`orchestrate_run(None, run_dir, resume=True)` continues where the run stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from coachgraph.graphs.orchestrate.config import (
    OrchestrateConfig,
    read_run_file,
    run_id_of,
    write_run_file,
)
from coachgraph.graphs.orchestrate.context import OrchestrateContext
from coachgraph.graphs.orchestrate.graph import build_orchestrate_graph
from coachgraph.graphs.orchestrate.outputs import RoundSummary, round_summaries, write_outputs
from coachgraph.graphs.orchestrate.state import OrchestrateState
from coachgraph.graphs.runs import (
    Progress,
    RunFile,
    drive,
    open_checkpointer,
    open_run,
    saved_run,
    traced,
)

__all__ = ["OrchestrateResult", "load_orchestrate_run", "orchestrate_run"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class OrchestrateResult:
    """What `orchestrate_run` returns."""

    run_dir: Path
    run_id: str
    finished: bool
    """False when the run stopped early (`stop_after`); resume it with ``resume=True``."""
    rounds: list[RoundSummary]
    results: list[dict[str, Any]]
    """One record per finished task (see `OrchestrateState.results`)."""
    retrains: list[dict[str, Any]]
    fixed: tuple[str, ...]
    """The fixed team of this pool (what retrieval over descriptions picks, unless configured)."""
    store: str
    """The store of the teams' calling trees."""
    outputs: dict[str, Path] = field(default_factory=dict)


RUN_FILE: RunFile[OrchestrateConfig, OrchestrateContext] = RunFile(
    read=read_run_file, write=write_run_file, context=OrchestrateContext.from_run, run_id=run_id_of)
"""How orchestrate runs keep their folders."""


def load_orchestrate_run(run_dir: str | Path) -> tuple[OrchestrateConfig, str]:
    """The config and run id saved in `run_dir`."""
    return saved_run(run_dir, RUN_FILE)


def _position(inputs: Any) -> str | None:
    """Where a node of the run is: the task for a team branch, else the rounds done (with the
    node's name, unique within a run)."""
    if not isinstance(inputs, Mapping):
        return None
    return f"task-{inputs['index']}" if "index" in inputs else f"round-{inputs.get('round', 0)}"


def _inputs(config: OrchestrateConfig, run_id: str) -> OrchestrateState:
    learns = config.policy == "learned"
    return {"run_id": run_id, "rounds": config.rounds, "round": 0, "tasks_done": 0, "trained_at": 0,
            "model_version": 0, "retrain_every": config.retrain_every if learns else 0}


def orchestrate_run(config: OrchestrateConfig | None, run_dir: str | Path, resume: bool = False, *,
                    stop_after: int | None = None, progress: Progress | None = None) -> OrchestrateResult:
    """Run (or resume) an orchestrate run in `run_dir` and write its outputs when it finishes.

    Args:
        config: the run's settings; with `resume`, None reads them from ``run.json``, and a config
            that differs from the saved one is refused, naming each differing setting.
        run_dir: the run folder (created when new).
        resume: continue the run saved in `run_dir` from its last checkpoint.
        stop_after: stop once this many rounds are done, leaving a resumable run.
        progress: called after every node with its name and state update.
    """
    run_dir = Path(run_dir)
    config, run_id, ctx = open_run(config, run_dir, resume, RUN_FILE)

    def stop(node: str, values: Mapping[str, Any]) -> bool:
        return stop_after is not None and node == "review" and int(values.get("round", 0)) >= stop_after

    with traced(run_dir / "calltrees.sqlite", session_id=run_id, trace_id=run_id, task=f"orchestrate run {run_id}",
                position=_position) as tracer, \
            open_checkpointer(run_dir / "checkpoints.sqlite") as saver:
        invoke: RunnableConfig = {"configurable": {"thread_id": run_id}, "callbacks": [tracer],
                                  "recursion_limit": 10**6, "max_concurrency": config.concurrency}
        graph = build_orchestrate_graph(checkpointer=saver)
        drive(graph, None if resume else _inputs(config, run_id), invoke, ctx, tracer=tracer,
              progress=progress, stop=stop)
        values = graph.get_state(invoke).values
        finished = not graph.get_state(invoke).next
    results = list(values.get("results", []))
    result = OrchestrateResult(run_dir=run_dir, run_id=run_id, finished=finished,
                               rounds=round_summaries(results, ctx.pool), results=results,
                               retrains=list(values.get("retrains", [])), fixed=ctx.fixed, store=ctx.store)
    if finished:
        result.outputs = write_outputs(result, ctx, config)
    return result
