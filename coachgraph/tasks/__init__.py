"""Verifiable task domains: the `TaskDomain` protocol and its registry, procedural arithmetic and
word problems, GSM8K-style JSONL files, answer extraction and checking, held-out accuracy."""

from __future__ import annotations

from coachgraph.tasks.answers import check_answer, extract_answer, normalize_number
from coachgraph.tasks.base import (
    DOMAINS,
    LEVEL,
    TaskDomain,
    load_domain,
    register_domain,
    skill_at_level,
    task_kind,
)
from coachgraph.tasks.domain import ArithmeticDomain, DomainConfig
from coachgraph.tasks.evaluate import (
    heldout_accuracy,
    heldout_outcomes,
    outcome_accuracy,
    task_accuracy,
)
from coachgraph.tasks.formats import format_instruction
from coachgraph.tasks.gsm8k import JsonlDomain, load_gsm8k
from coachgraph.tasks.skills import PREREQUISITES, SKILLS

__all__ = (
    "DOMAINS",
    "LEVEL",
    "PREREQUISITES",
    "SKILLS",
    "ArithmeticDomain",
    "DomainConfig",
    "JsonlDomain",
    "TaskDomain",
    "check_answer",
    "extract_answer",
    "format_instruction",
    "heldout_accuracy",
    "heldout_outcomes",
    "outcome_accuracy",
    "load_domain",
    "load_gsm8k",
    "normalize_number",
    "register_domain",
    "skill_at_level",
    "task_accuracy",
    "task_kind",
)
