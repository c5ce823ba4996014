"""`train_run`: build a run's context, run the curriculum graph with a checkpointer and a tracer,
write its outputs.

A run folder holds everything needed to resume: ``run.json`` (config and run id), the LangGraph
checkpoints (``checkpoints.sqlite``, thread id = run id), the student states
(``student/step-<n>/``) and the calling tree of the run so far (``calltrees.sqlite``, one trace
named by the run id, written step by step). `train_run(None, run_dir, resume=True)` continues
where the run stopped and ends with the same result as an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from coachgraph.graphs.curriculum.config import (
    RunConfig,
    read_run_file,
    write_run_file,
)
from coachgraph.graphs.curriculum.context import CurriculumContext
from coachgraph.graphs.curriculum.graph import CurriculumGraph, build_curriculum_graph
from coachgraph.graphs.curriculum.outputs import curriculum_of, final_accuracy, write_report
from coachgraph.graphs.curriculum.state import CurriculumState
from coachgraph.graphs.curriculum.students import saved_steps, trainer_folder
from coachgraph.graphs.runs import (
    Progress,
    RunFile,
    drive,
    open_checkpointer,
    open_run,
    saved_run,
    traced,
)
from coachgraph.types import Curriculum

__all__ = ["RunResult", "load_run", "train_run"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RunResult:
    """What `train_run` returns."""

    run_dir: Path
    run_id: str
    steps_done: int
    finished: bool
    """False when the run stopped early (`stop_after`); resume it with ``resume=True``."""
    curriculum: Curriculum
    history: list[dict[str, Any]]
    """Held-out evaluations ``{"step", "accuracy": {skill: float}}`` in order."""
    final_accuracy: dict[str, float]
    outputs: dict[str, Path] = field(default_factory=dict)
    """Output name -> path (curriculum, mastery, curves, report, checkpoint); empty if unfinished."""


RUN_FILE: RunFile[RunConfig, CurriculumContext] = RunFile(
    read=read_run_file, write=write_run_file, context=CurriculumContext.from_run,
    run_id=lambda config: f"{config.teacher}-s{config.seed}-{uuid.uuid4().hex[:8]}")
"""How curriculum runs keep their folders."""


def load_run(run_dir: str | Path) -> tuple[RunConfig, str]:
    """The config and run id saved in `run_dir`."""
    return saved_run(run_dir, RUN_FILE)


def _resume_config(graph: CurriculumGraph, invoke: RunnableConfig, ctx: CurriculumContext) -> RunnableConfig:
    """Where a resumed run continues: its last checkpoint, or the one of its newest saved student.

    The student state is saved every `save_every` steps, so the graph may be ahead of it. Then the
    run forks from the checkpoint right after the learn node that ended the saved step (the
    oldest one holding that step) and replays the steps after it, which repeat exactly. A finished
    run has nothing left to run: it is reread as it stands, whatever student states were kept.
    """
    state = graph.get_state(invoke)
    step = int(state.values.get("step", 0))
    if ctx.trainer is None or (state.values and not state.next):
        return invoke
    saved = max((s for s in saved_steps(ctx.run_dir) if s <= step), default=0)
    if saved:
        ctx.trainer.load(trainer_folder(ctx.run_dir, saved))
    if saved == step:
        return invoke
    at = [s for s in graph.get_state_history(invoke) if s.values.get("step") == saved]
    logger.info("replaying steps %d-%d from the checkpoint of step %d", saved + 1, step, saved)
    return {**at[-1].config, "callbacks": invoke.get("callbacks"), "recursion_limit": invoke.get("recursion_limit", 25)}


def _position(inputs: Any) -> int | None:
    """Where a node of the run is: the training steps done when it starts (with the node's
    name, unique within a run)."""
    return inputs.get("step") if isinstance(inputs, Mapping) else None


def _inputs(config: RunConfig, run_id: str, ctx: CurriculumContext) -> CurriculumState:
    return {"run_id": run_id, "max_steps": config.steps, "step": 0, "eval_every": config.eval_every,
            "reflect_every": config.reflect_every, "save_every": config.save_every,
            "curriculum_state": json.dumps(ctx.curriculum.state_dict())}


def train_run(config: RunConfig | None, run_dir: str | Path, resume: bool = False, *,
              stop_after: int | None = None, progress: Progress | None = None) -> RunResult:
    """Run (or resume) a curriculum run in `run_dir` and write its outputs when it finishes.

    Args:
        config: the run's settings; with `resume`, None reads them from ``run.json``, and a config
            that differs from the saved one is refused, naming each differing setting.
        run_dir: the run folder (created when new).
        resume: continue the run saved in `run_dir` from its last checkpoint.
        stop_after: stop once this many steps are done, leaving a resumable run.
        progress: called after every node with its name and state update.
    """
    run_dir = Path(run_dir)
    config, run_id, ctx = open_run(config, run_dir, resume, RUN_FILE)

    def stop(node: str, values: Mapping[str, Any]) -> bool:
        return stop_after is not None and node == "learn" and int(values["step"]) >= stop_after

    with traced(run_dir / "calltrees.sqlite", session_id=run_id, trace_id=run_id, task=f"curriculum run {run_id}",
                position=_position) as tracer, open_checkpointer(run_dir / "checkpoints.sqlite") as saver:
        invoke: RunnableConfig = {"configurable": {"thread_id": run_id}, "callbacks": [tracer], "recursion_limit": 10**6}
        graph = build_curriculum_graph(checkpointer=saver)
        start = _resume_config(graph, invoke, ctx) if resume else invoke
        drive(graph, None if resume else _inputs(config, run_id, ctx), start, ctx, tracer=tracer,
              progress=progress, stop=stop)
        snapshot = graph.get_state(invoke)
    return _result(config, run_dir, run_id, snapshot.values, not snapshot.next, ctx)


def _result(config: RunConfig, run_dir: Path, run_id: str, values: Mapping[str, Any], finished: bool,
            ctx: CurriculumContext) -> RunResult:
    curriculum = curriculum_of(values, config.teacher, config.seed)
    history = list(values.get("history", []))
    outputs: dict[str, Path] = {}
    if finished:
        outputs = write_report(run_dir, values, curriculum, config)
        if ctx.trainer is not None and config.export:
            outputs["checkpoint"] = ctx.trainer.export(run_dir / "checkpoint")
    return RunResult(run_dir=run_dir, run_id=run_id, steps_done=int(values.get("step", 0)),
                     finished=finished, curriculum=curriculum, history=history,
                     final_accuracy=final_accuracy(history), outputs=outputs)
