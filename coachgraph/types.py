"""Shared value types passed around the teaching loop.

Every type here holds JSON primitives only (str, int, float, bool, None, lists and dicts of
them), so that LangGraph checkpoints, calling-tree logs and run folders can store them as they
are. Types that are written to disk carry a `schema_version`; readers reject versions they do not
know instead of guessing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "FORMAT_LEVELS",
    "SCHEMA_VERSION",
    "Attempt",
    "ChatMessage",
    "Curriculum",
    "CurriculumStep",
    "Metadata",
    "Outcome",
    "StepItem",
    "Task",
    "TaskFormat",
    "Verdict",
    "group_advantages",
]

SCHEMA_VERSION = 1
"""Version of the stored form of every type in this module."""

TaskFormat = Literal["choice4", "choice10", "cloze", "open"]
"""How a task is shown: multiple choice with 4 or 10 options, fill-in-the-blank, or open."""

FORMAT_LEVELS: tuple[TaskFormat, ...] = ("choice4", "choice10", "cloze", "open")
"""Formats from easiest to hardest (the Cog-DRIFT ladder)."""

Metadata = dict[str, str | int | float | bool | None]
"""Free-form annotations that stay JSON primitive."""

ChatMessage = dict[str, str]
"""One chat-template message: ``{"role": "system" | "user" | "assistant", "content": ...}``."""


class _Stored(BaseModel):
    """Base of stored types: frozen, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="after")
    def _known_version(self) -> _Stored:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {self.schema_version} is not supported "
                f"(this coachgraph reads version {SCHEMA_VERSION})"
            )
        return self


class Task(_Stored):
    """One verifiable problem, as shown to the student.

    `answer` is always the gold value in open form (e.g. ``"42"``); for multiple-choice formats
    `correct_option` is the index of the option that holds it, so that a letter answer can be
    checked without re-parsing the options.
    """

    id: str
    skill: str
    category: str
    difficulty: dict[str, float] = Field(default_factory=dict)
    question: str
    answer: str
    steps: list[str] = Field(default_factory=list)
    format: TaskFormat = "open"
    options: list[str] = Field(default_factory=list)
    correct_option: int | None = None
    horizon: int = 1
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _options_match_format(self) -> Task:
        wanted = {"choice4": 4, "choice10": 10}.get(self.format, 0)
        if len(self.options) != wanted:
            raise ValueError(f"format {self.format!r} needs {wanted} options, got {len(self.options)}")
        if wanted and not (self.correct_option is not None and 0 <= self.correct_option < wanted):
            raise ValueError("a multiple-choice task needs correct_option within its options")
        return self


class Attempt(_Stored):
    """One sampled answer of the student to one task.

    `token_ids` are the answer's tokens as the model generated them, kept for policy-gradient
    training (a re-tokenized text can differ); empty for models that do not report them.
    """

    task_id: str
    text: str
    extracted: str | None = None
    correct: bool = False
    sample: int = 0
    logprobs: list[float] | None = None
    token_ids: list[int] = Field(default_factory=list)


class Verdict(_Stored):
    """The critic's judgement of one attempt.

    `first_wrong_step` is the 0-based index of the first reference step the attempt gets wrong,
    or None when no step could be blamed (a correct answer, or no reference steps).
    """

    task_id: str
    correct: bool
    first_wrong_step: int | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    feedback: str = ""


class StepItem(_Stored):
    """One problem of a training step, or one exchange of a tutoring session, as one record.

    It grows as the nodes of a graph act on it: the teacher sets the `task`, the student adds the
    `prompt` it saw, the library `skills` shown in it and its `attempts`, the critic grades the
    attempts and adds one `verdict` per attempt.
    """

    task: Task
    prompt: list[ChatMessage] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    """Names of the library skills shown in the prompt."""
    attempts: list[Attempt] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_verdict_per_attempt(self) -> StepItem:
        if self.verdicts and len(self.verdicts) != len(self.attempts):
            raise ValueError(f"{len(self.verdicts)} verdicts for {len(self.attempts)} attempts")
        if any(a.task_id != self.task.id for a in self.attempts):
            raise ValueError(f"an attempt does not belong to task {self.task.id!r}")
        return self

    @property
    def rewards(self) -> list[float]:
        """The critic's reward of each attempt, or its outcome (1 or 0) before any verdict."""
        if self.verdicts:
            return [float(v.scores.get("reward", 1.0 if a.correct else 0.0))
                    for a, v in zip(self.attempts, self.verdicts, strict=True)]
        return [1.0 if a.correct else 0.0 for a in self.attempts]


def group_advantages(rewards: Sequence[float], eps: float = 1e-6) -> list[float]:
    """GRPO group-normalised advantages, (r - mean) / population std; all zero for a flat group.

    The population std makes E|A| = 2*sqrt(p(1-p)) for binary rewards, which is what lets SEC's
    absolute-advantage reward peak at a 50% success rate.

    >>> group_advantages([1.0, 0.0, 0.0, 1.0])
    [1.0, -1.0, -1.0, 1.0]
    >>> group_advantages([1.0, 1.0])
    [0.0, 0.0]
    """
    if not rewards:
        return []
    mean = sum(rewards) / len(rewards)
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))
    if std < eps:
        return [0.0 for _ in rewards]
    return [(r - mean) / std for r in rewards]


class Outcome(_Stored):
    """What a curriculum learns from: one task's rewards over G samples.

    `advantages` are the trainer's per-sample advantages when it has them (token-level ones
    averaged over tokens first); otherwise they are derived from `rewards` by
    `group_advantages`. `missing_skills` is the critic's diagnosis of what a failed answer
    lacked (STAT's missing-skill profile); empty when nobody diagnosed it.
    """

    task_id: str
    skill: str
    category: str
    item_id: str | None = None
    difficulty: dict[str, float] = Field(default_factory=dict)
    format: TaskFormat = "open"
    horizon: int = 1
    rewards: list[float]
    advantages: list[float] | None = None
    missing_skills: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_rewards(self) -> Outcome:
        if not self.rewards:
            raise ValueError("an outcome needs at least one reward")
        if self.advantages is not None and len(self.advantages) != len(self.rewards):
            raise ValueError("advantages and rewards must have the same length")
        return self

    @property
    def key(self) -> str:
        """The item this outcome is about: `item_id` when set, else the category."""
        return self.item_id if self.item_id is not None else self.category

    @property
    def mean_reward(self) -> float:
        """Mean reward over the samples (the success rate for 0/1 rewards)."""
        return sum(self.rewards) / len(self.rewards)

    @property
    def mean_abs_advantage(self) -> float:
        """Mean |A| over the samples: SEC's reward for this problem."""
        adv = self.advantages if self.advantages is not None else group_advantages(self.rewards)
        return sum(abs(a) for a in adv) / len(adv)

    @classmethod
    def from_attempts(
        cls, task: Task, attempts: Sequence[Attempt], missing_skills: Sequence[str] = ()
    ) -> Outcome:
        """Build the outcome of `task` from its graded attempts (reward 1 if correct, else 0)."""
        if any(a.task_id != task.id for a in attempts):
            raise ValueError(f"attempts do not all belong to task {task.id!r}")
        return cls(
            task_id=task.id,
            skill=task.skill,
            category=task.category,
            item_id=str(task.metadata["item_id"]) if "item_id" in task.metadata else None,
            difficulty=dict(task.difficulty),
            format=task.format,
            horizon=task.horizon,
            rewards=[1.0 if a.correct else 0.0 for a in attempts],
            missing_skills=list(missing_skills),
        )


class CurriculumStep(_Stored):
    """One decision of a teacher: what to practise next, how hard, and why.

    `skill` is the arm the teacher chose (a skill or category name; empty for purely continuous
    task spaces); `difficulty` holds continuous knobs; `weight` is the sampling weight the
    teacher gave the choice.
    """

    step: int = 0
    skill: str = ""
    difficulty: dict[str, float] = Field(default_factory=dict)
    item_id: str | None = None
    format: TaskFormat = "open"
    horizon: int = 1
    weight: float = 1.0
    reason: str = ""


class Curriculum(_Stored):
    """The ordered record of a teacher's decisions over a run (``curriculum.json``)."""

    teacher: str
    seed: int
    steps: list[CurriculumStep] = Field(default_factory=list)
