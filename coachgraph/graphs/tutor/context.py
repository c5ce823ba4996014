"""What the tutor graph's nodes receive through LangGraph's runtime context.

Every field takes a plain value, so LangGraph's server builds the context from the JSON context
of a run, e.g. ``{"domain": "arithmetic", "teacher_model": "smollm2", "library": "skills/"}``;
library users pass objects (a chat model, a `TaskDomain`, a `SkillLibrary`) instead.
"""

from __future__ import annotations

from pydantic import Field

from coachgraph.agents import BaseContext
from coachgraph.agents.context import ChatModelField
from coachgraph.curriculum.bkt import BKTParams

__all__ = ["TutorContext"]


class TutorContext(BaseContext):
    """Dependencies and settings of a tutoring session."""

    teacher_model: ChatModelField | None = None
    """The model that writes hints and explanations (a spec or an object); None uses templates."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """Sampling temperature of the teacher model (seeded by session and turn either way)."""
    max_tokens: int = Field(default=96, ge=8, le=1024)
    """Longest hint or explanation the teacher model writes."""
    skills_k: int = Field(default=1, ge=0, le=8)
    """Library skills retrieved into the teacher model's prompt."""
    threshold: float = Field(default=0.95, gt=0.5, lt=1.0)
    """Mastery at or above which a skill counts as mastered (for new learner models)."""
    default_params: BKTParams = Field(default_factory=BKTParams)
    """BKT parameters of skills with neither an override nor parameters fitted from data."""
    bkt: dict[str, BKTParams] = Field(default_factory=dict)
    """Per-skill BKT parameters that override fitted ones (for new learner models)."""
    explain_new_skills: bool = True
    """Introduce a skill before its first problem."""
