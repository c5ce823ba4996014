"""The arithmetic domain's skills, their order and their prerequisite graph.

The skills span what the embedded student mostly knows (single-digit facts), what it can learn
in a few hundred steps (two-digit column arithmetic) and what stays out of its reach (2x2-digit
multiplication, multi-step word problems), so that the order of practice matters.
"""

from __future__ import annotations

from coachgraph.tasks import word  # noqa: F401  (registers the word-problem family)
from coachgraph.tasks.problems import FAMILIES

__all__ = ["PREREQUISITES", "SKILLS"]

PREREQUISITES: dict[str, tuple[str, ...]] = {
    "add-1d": (),
    "sub-1d": (),
    "mul-1d": (),
    "add-2d": ("add-1d",),
    "sub-2d": ("sub-1d",),
    "add-2d-carry": ("add-2d",),
    "sub-2d-borrow": ("sub-2d",),
    "add-3d": ("add-2d-carry",),
    "mul-2x1": ("mul-1d", "add-2d-carry"),
    "order-ops": ("mul-1d", "add-2d"),
    "mul-2x2": ("mul-2x1", "add-3d"),
    "word-2step": ("order-ops", "sub-2d-borrow"),
}
"""Skill -> skills that must be mastered first."""

SKILLS: tuple[str, ...] = tuple(FAMILIES)
"""All skills, from easiest to hardest."""
