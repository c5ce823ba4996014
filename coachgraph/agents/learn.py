"""Learn: one training step of the student, then the curriculum teacher's update.

Every `save_every` steps (and after the last one) the trainer state is saved to
``run_dir/student/step-<n>/`` by an atomic folder rename; a full model's state is large, so
saving it every step would cost more than the step. A resumed run loads the newest saved state
and replays the steps after it from the graph's checkpoint history; training and sampling are
seeded, so the replay repeats them exactly. When LangGraph re-runs this node after a kill, a
folder that already exists means the step was trained: its state is loaded instead.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from coachgraph.agents.context import AgentContext
from coachgraph.agents.planner import restore_teacher
from coachgraph.agents.reflector import reflect_due, task_kind
from coachgraph.models.local import Message
from coachgraph.models.training import GroupRollout, SFTExample, StudentTrainer
from coachgraph.tasks.answers import option_letter
from coachgraph.types import Attempt, Outcome, Task, group_advantages

__all__ = ["OBJECTIVES", "StepData", "graded_outcome", "learn_node", "reference_solution", "saved_steps", "trainer_folder"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StepData:
    """One step's problems, the prompts shown, graded attempts and their token ids."""

    tasks: Sequence[Task]
    chats: Sequence[Sequence[Message]]
    attempts: Sequence[Sequence[Attempt]]
    completions: Sequence[Sequence[Sequence[int]]]
    rewards: Sequence[Sequence[float]]
    """The critic's reward of each attempt (its outcome, plus process reward when configured)."""

    @classmethod
    def of(cls, state: Mapping[str, Any]) -> StepData:
        """Read a step back from graph state."""
        attempts = [[Attempt.model_validate(a) for a in row] for row in state["attempts"]]
        verdicts = state.get("verdicts") or [[{} for _ in row] for row in attempts]
        rewards = [[float(v.get("scores", {}).get("reward", 1.0 if a.correct else 0.0)) for a, v in zip(row, vs, strict=True)]
                   for row, vs in zip(attempts, verdicts, strict=True)]
        return cls([Task.model_validate(t) for t in state["tasks"]], state["prompts"], attempts,
                   state["completions"], rewards)


def reference_solution(task: Task) -> str:
    """The verified worked solution of `task`, ending in the answer line the student must give.

    >>> t = Task(id="t", skill="s", category="s", question="What is 2 + 3?", answer="5",
    ...          steps=["2 + 3 = 5"])
    >>> reference_solution(t)
    '2 + 3 = 5\\n#### 5'
    """
    final = option_letter(task.correct_option) if task.correct_option is not None else task.answer
    return "\n".join([*task.steps, f"#### {final}"])


def _sft(trainer: StudentTrainer, data: StepData) -> dict[str, Any]:
    """Imitate correct answers, and the reference solution where every sample failed."""
    examples = []
    for task, chat, row in zip(data.tasks, data.chats, data.attempts, strict=True):
        right = list(dict.fromkeys(a.text for a in row if a.correct))
        examples += [SFTExample(chat, text) for text in right or [reference_solution(task)]]
    return trainer.sft_step(examples)


def _grpo(trainer: StudentTrainer, data: StepData) -> dict[str, Any]:
    """Group-normalised policy gradient over the sampled answers."""
    groups = [GroupRollout(chat, ids, list(rewards))
              for chat, ids, rewards in zip(data.chats, data.completions, data.rewards, strict=True)]
    return trainer.grpo_step(groups)


OBJECTIVES: dict[str, Callable[[StudentTrainer, StepData], dict[str, Any]]] = {"sft": _sft, "grpo": _grpo}
"""Training objectives by name (`AgentConfig.objective`)."""


def trainer_folder(run_dir: Path, step: int) -> Path:
    """Where the trainer state after `step` training steps is kept."""
    return Path(run_dir) / "student" / f"step-{step:06d}"


def saved_steps(run_dir: Path) -> list[int]:
    """Steps whose trainer state is saved in `run_dir`, oldest first."""
    return sorted(int(p.name.removeprefix("step-")) for p in (Path(run_dir) / "student").glob("step-*")
                  if not p.name.endswith(".tmp"))


def _train(ctx: AgentContext, data: StepData, done: Path, save: bool) -> dict[str, Any]:
    """Train once and save atomically when asked; or load the saved state of a step already trained."""
    if ctx.trainer is None:
        return {}
    if done.exists():
        logger.info("step already trained: loading %s", done)
        ctx.trainer.load(done)
        return json.loads((done / "metrics.json").read_text(encoding="utf-8"))
    metrics = OBJECTIVES[ctx.config.objective](ctx.trainer, data)
    if not save:
        return metrics
    staging = done.with_name(done.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    ctx.trainer.save(staging)
    (staging / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    staging.rename(done)
    return metrics


def _prune(done: Path) -> None:
    """Keep the newest state and the one before it (a resume may need either)."""
    for folder in sorted(done.parent.glob("step-*"))[:-2]:
        shutil.rmtree(folder)


def graded_outcome(task: Task, attempts: Sequence[Attempt]) -> Outcome:
    """What the curriculum teacher learns from one problem's graded samples: rewards, group
    advantages, and the problem's skill as missing when no sample solved it."""
    missing = [] if any(a.correct for a in attempts) else [task.skill]
    outcome = Outcome.from_attempts(task, attempts, missing)
    return outcome.model_copy(update={"advantages": group_advantages(outcome.rewards)})


def _outcomes(data: StepData) -> list[Outcome]:
    return [graded_outcome(task, row) for task, row in zip(data.tasks, data.attempts, strict=True)]


def _save_due(ctx: AgentContext, step: int, max_steps: int) -> bool:
    """Save after every `save_every` steps, the last step, and before each reflection (which a
    resume must not replay across, since it changes the library the prompts draw from)."""
    cfg = ctx.config
    reflect = ctx.library is not None and reflect_due(step, cfg.reflect_every)
    return step % max(cfg.save_every, 1) == 0 or step >= max_steps or reflect


def _skill_outcomes(state: Mapping[str, Any], data: StepData, step: int) -> list[dict[str, Any]]:
    """One record per attempt and library skill shown in its prompt."""
    used = state.get("used_skills") or [[] for _ in data.tasks]
    return [{"skill": name, "success": bool(a.correct), "task_kind": task_kind(task), "step": step}
            for task, row, names in zip(data.tasks, data.attempts, used, strict=True)
            for name in names for a in row]


def learn_node(state: Mapping[str, Any], runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Train, save the trainer, update the curriculum teacher; advance the step counter."""
    ctx, step = runtime.context, int(state.get("step", 0))
    data = StepData.of(state)
    done = trainer_folder(ctx.run_dir, step + 1)
    metrics = _train(ctx, data, done, save=_save_due(ctx, step + 1, int(state.get("max_steps", 0))))
    if done.exists():
        _prune(done)
    outcomes = _outcomes(data)
    restore_teacher(ctx.teacher, state)
    ctx.teacher.update(outcomes)
    rewards = [r for o in outcomes for r in o.rewards]
    summary = {"step": step + 1, "mean_reward": sum(rewards) / max(len(rewards), 1),
               "loss": float(metrics.get("loss", 0.0)), "tokens": float(metrics.get("tokens", 0.0))}
    logger.info("step %d: mean reward %.3f, loss %.4f", step + 1, summary["mean_reward"], summary["loss"])
    failed = [t.model_dump(mode="json") for t, o in zip(data.tasks, outcomes, strict=True) if o.mean_reward == 0]
    return {"step": step + 1, "teacher_state": json.dumps(ctx.teacher.state_dict()),
            "failed": failed, "metrics": [summary], "skill_outcomes": _skill_outcomes(state, data, step + 1)}
