"""The `Skill` value type: one Agent Skills folder's `SKILL.md`, parsed.

Spec fields are attributes; coachgraph's own fields live in `metadata` under the
``coachgraph.`` prefix (so files stay valid for every Agent Skills reader) and are exposed as
typed properties.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["META_PREFIX", "Skill", "SkillKind", "Trajectory"]

META_PREFIX = "coachgraph."
"""Prefix of our keys inside `metadata`."""


class SkillKind(StrEnum):
    """What a skill is for."""

    PROCEDURE = "procedure"
    """A general way of working (check your answer, decompose a problem)."""
    PROBLEM_SKILL = "problem-skill"
    """How to solve one family of problems (add fractions with unlike denominators)."""
    RUBRIC = "rubric"
    """A prototype with weighted criteria that the critic scores against."""
    AGENT_SKILL = "agent-skill"
    """A move an agent makes (a tutoring move, a tool-use habit)."""


class Skill(BaseModel):
    """A skill's front matter and markdown body."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    name: str
    """1-64 lowercase letters, digits and single hyphens; equals the folder name."""
    description: str
    """What the skill does and when to use it (1-1024 characters)."""
    body: str = ""
    """The markdown instructions (disclosure level 2)."""
    license: str | None = None
    compatibility: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    allowed_tools: str | None = Field(default=None, alias="allowed-tools")

    def meta(self, key: str, default: str | None = None) -> str | None:
        """Our metadata field `key` (without prefix)."""
        return self.metadata.get(META_PREFIX + key, default)

    def with_meta(self, **fields: str | None) -> Skill:
        """A copy with our metadata fields set (``None`` removes one); underscores become hyphens."""
        metadata = dict(self.metadata)
        for key, value in fields.items():
            full = META_PREFIX + key.replace("_", "-")
            metadata.pop(full, None)
            if value is not None:
                metadata[full] = value
        return self.model_copy(update={"metadata": metadata})

    @property
    def kind(self) -> SkillKind:
        return SkillKind(self.meta("kind", SkillKind.PROCEDURE.value))

    @property
    def version(self) -> int:
        return int(self.meta("version", "1") or 1)

    @property
    def prerequisites(self) -> list[str]:
        return (self.meta("prerequisites") or "").split()

    @property
    def difficulty(self) -> float | None:
        value = self.meta("difficulty")
        return float(value) if value is not None else None


class Trajectory(BaseModel):
    """One attempt at a task, as reflective writing reads it."""

    model_config = ConfigDict(frozen=True)

    task: str
    """The problem or request."""
    steps: str
    """What the agent did and said, as text."""
    success: bool
    """Whether the outcome was judged correct."""
    verdict: str = ""
    """The critic's verdict or critique."""
    task_kind: str = ""
    """A label for the task family, e.g. ``"arithmetic.fractions"``."""
    skill: str | None = None
    """The skill the agent used, if any."""
    student: str = ""
    """Who made the attempt."""
