"""Verifiable task domains: procedural arithmetic and word problems, GSM8K-style loading,
answer extraction and checking."""

from __future__ import annotations

from coachgraph.tasks.answers import check_answer, extract_answer, normalize_number
from coachgraph.tasks.domain import LEVEL, ArithmeticDomain, DomainConfig
from coachgraph.tasks.evaluate import heldout_accuracy, task_accuracy
from coachgraph.tasks.formats import format_instruction
from coachgraph.tasks.skills import PREREQUISITES, SKILLS, prerequisite_graph, skill_at_level

__all__ = (
    "LEVEL",
    "PREREQUISITES",
    "SKILLS",
    "ArithmeticDomain",
    "DomainConfig",
    "check_answer",
    "extract_answer",
    "format_instruction",
    "heldout_accuracy",
    "normalize_number",
    "prerequisite_graph",
    "skill_at_level",
    "task_accuracy",
)
