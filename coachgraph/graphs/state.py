"""The curriculum graph's state: JSON primitives only, with reducers on the lists that grow.

Live objects (models, trainer, teacher algorithm) stay in runtime context; what must survive a
kill (the teacher algorithm's state, the step counter, the record of decisions) is here, so the
SQLite checkpointer can restore it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

__all__ = ["CurriculumState"]

JSON = dict[str, Any]


class CurriculumState(TypedDict, total=False):
    """State of one curriculum run (the `thread_id` is the run id)."""

    run_id: str
    """Identifier of the run."""
    max_steps: int
    """Training steps to run before ending."""
    eval_every: int
    """Held-out evaluation after every this many steps (0: only at the start and the end)."""
    reflect_every: int
    """Reflection into the skill library after every this many steps (0: never)."""
    step: int
    """Training steps completed so far."""
    teacher_state: str
    """The curriculum algorithm's `state_dict()` as JSON text (its generator state holds
    integers wider than 64 bits, which msgpack cannot carry)."""
    plan: list[JSON]
    """This step's `CurriculumStep`s."""
    tasks: list[JSON]
    """This step's `Task`s (plan order, then reformulations)."""
    prompts: list[list[dict[str, str]]]
    """The chat shown to the student for each task."""
    attempts: list[list[JSON]]
    """G `Attempt`s per task (graded once the critic has run)."""
    used_skills: list[list[str]]
    """Names of the library skills shown in each task's prompt."""
    completions: list[list[list[int]]]
    """Token ids of each attempt (empty for models that do not report them)."""
    verdicts: list[list[JSON]]
    """The critic's `Verdict` per attempt."""
    failed: list[JSON]
    """Tasks of the last step that no sample solved (candidates for reformulation)."""
    curriculum: Annotated[list[JSON], operator.add]
    """Every `CurriculumStep` decided so far, in order."""
    history: Annotated[list[JSON], operator.add]
    """Held-out evaluations: ``{"step": n, "accuracy": {skill: float}}``."""
    skill_outcomes: Annotated[list[JSON], operator.add]
    """Per attempt that had skills in its prompt: ``{"skill", "success", "task_kind", "step"}``;
    the reflect node flushes them into the library's usage statistics."""
    reflections: Annotated[list[JSON], operator.add]
    """What each reflection did: ``{"step", "action", "skill", "retired"}``."""
    metrics: Annotated[list[JSON], operator.add]
    """Per-step training summaries: step, mean reward, loss, tokens."""
