"""Reflect: write what recent steps taught back into the shared skill library.

Every `reflect_every` steps the outcomes of attempts that had library skills in their prompt are
counted into the library's usage statistics, one skill is created or revised from this step's
trajectories (the category with the most failed attempts), and skills this run wrote that keep
failing are retired (curated skills are kept: a hard skill's low success rate says little about
its notes). The library lives outside graph state, so each reflection leaves a marker file; a node
that LangGraph re-runs after a kill finds it and changes nothing twice.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from coachgraph.agents.context import AgentContext
from coachgraph.skills import SkillWriter, Trajectory, retire_failing
from coachgraph.types import Attempt, Task, Verdict

__all__ = ["reflect_due", "reflect_node", "step_trajectories", "task_kind"]

logger = logging.getLogger(__name__)


def reflect_due(step: int, every: int) -> bool:
    """Whether a reflection follows training step `step` (every `every` steps; 0 never).

    >>> reflect_due(4, 2), reflect_due(3, 2), reflect_due(4, 0)
    (True, False, False)
    """
    return every > 0 and step % every == 0


def task_kind(task: Task) -> str:
    """The task family label skill statistics and reflections are kept under."""
    return f"arithmetic.{task.skill}"


def step_trajectories(state: Mapping[str, Any], student: str = "") -> list[Trajectory]:
    """This step's graded attempts as trajectories of the category with the most failures."""
    tasks = [Task.model_validate(t) for t in state.get("tasks", [])]
    used = state.get("used_skills") or [[] for _ in tasks]
    rows = []
    for task, attempts, verdicts, names in zip(tasks, state.get("attempts", []), state.get("verdicts", []), used,
                                               strict=True):
        for a, v in zip(attempts, verdicts, strict=True):
            attempt, verdict = Attempt.model_validate(a), Verdict.model_validate(v)
            rows.append(Trajectory(task=task.question, steps=attempt.text, success=bool(attempt.correct),
                                   verdict=verdict.feedback, task_kind=task_kind(task),
                                   skill=names[0] if names else None, student=student))
    failures = Counter(t.task_kind for t in rows if not t.success)
    if not failures:
        return []
    kind = failures.most_common(1)[0][0]
    return [t for t in rows if t.task_kind == kind]


def _flush_outcomes(ctx: AgentContext, state: Mapping[str, Any], run_id: str) -> int:
    """Count outcomes recorded since the last reflection into the library's statistics."""
    assert ctx.library is not None
    done = max((int(r["step"]) for r in state.get("reflections", [])), default=0)
    pending = [o for o in state.get("skill_outcomes", []) if int(o["step"]) > done and o["skill"] in ctx.library]
    for o in pending:
        ctx.library.stats.record(o["skill"], bool(o["success"]), run_id, o["task_kind"])
    return len(pending)


def _marker(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "reflections" / f"step-{step:06d}.json"


def reflect_node(state: Mapping[str, Any], runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Update skill statistics, write one skill by reflection, retire failing skills."""
    ctx, step = runtime.context, int(state.get("step", 0))
    if ctx.library is None:
        return {}
    marker = _marker(ctx.run_dir, step)
    if marker.exists():
        return {"reflections": [json.loads(marker.read_text(encoding="utf-8"))]}
    run_id = str(state.get("run_id", ""))
    counted = _flush_outcomes(ctx, state, run_id)
    trajectories: Sequence[Trajectory] = step_trajectories(state, run_id)
    record: dict[str, Any] = {"step": step, "counted": counted, "action": None, "skill": None}
    if trajectories:
        writer = SkillWriter(ctx.teacher_model or ctx.student, ctx.library)
        reflection = writer.reflect(trajectories)
        record |= {"action": reflection.action.value, "skill": reflection.skill.name}
        logger.info("step %d reflection: %s %s", step, reflection.action.value, reflection.skill.name)
    written = [r["skill"] for r in [*state.get("reflections", []), record] if r.get("action") == "create"]
    record["retired"] = retire_failing(ctx.library, min_uses=20, names=written)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(record), encoding="utf-8")
    return {"reflections": [record]}
