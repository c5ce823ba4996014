"""The skill library's prompts (reflective writing, rubrics), read by the shared `PromptBook`."""

from __future__ import annotations

from coachgraph.prompts import PromptBook

__all__ = ["SKILL_PROMPTS"]

SKILL_PROMPTS = PromptBook("coachgraph.skills", ("reflect", "rubric"))
"""Templates of ``coachgraph/skills/prompts/*.yaml``."""
