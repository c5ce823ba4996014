"""The curriculum graph's state: JSON values only, with reducers on the lists that grow.

Live objects (models, trainer, curriculum algorithm) stay in the runtime context; what must
survive a kill (the algorithm's state, the step counter, this step's items, the record of
decisions) is here, so the checkpointer can restore it. Nodes are typed with this schema, so a
misspelled key is a type error; the records inside are the JSON forms of the types named in
each field's docstring, read and written with `read_items` and `dump_items`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from coachgraph.types import StepItem

__all__ = ["CurriculumState", "dump_items", "read_items"]

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
    save_every: int
    """Student state saved after every this many steps (and after the last, and before reflecting)."""
    step: int
    """Training steps completed so far."""
    curriculum_state: str
    """The curriculum algorithm's `state_dict()` as JSON text (its generator state holds
    integers wider than 64 bits, which msgpack cannot carry)."""
    plan: list[JSON]
    """This step's decisions (`CurriculumStep`)."""
    items: list[JSON]
    """This step's problems (`StepItem`): planned ones, then reformulations and new ones."""
    failed: list[JSON]
    """Problems (`Task`) of the last step that no sample solved (candidates for rewriting)."""
    curriculum: Annotated[list[JSON], operator.add]
    """Every decision (`CurriculumStep`) so far, in order."""
    history: Annotated[list[JSON], operator.add]
    """Held-out evaluations: ``{"step": n, "accuracy": {skill: float}}``."""
    skill_outcomes: Annotated[list[JSON], operator.add]
    """Per attempt that had skills in its prompt (`SkillOutcome`); the reflect node counts them
    into the library's usage statistics."""
    reflections: Annotated[list[JSON], operator.add]
    """What each reflection did: ``{"step", "counted", "action", "skill", "retired"}``."""
    metrics: Annotated[list[JSON], operator.add]
    """Per-step training summaries: step, mean reward, loss, tokens."""


def read_items(state: CurriculumState) -> list[StepItem]:
    """This step's items, validated."""
    return [StepItem.model_validate(item) for item in state.get("items", [])]


def dump_items(items: Sequence[StepItem]) -> list[JSON]:
    """Items as the JSON values state holds."""
    return [item.model_dump(mode="json") for item in items]
