"""Reflective writing: turn a batch of trajectories into a new or revised skill.

A chat model answers one small question per field (name, description, what worked, mistakes,
workflow); the questions are independent, so they go to the model together as one `batch` (a local
model answers them in one forward pass). The answers are cleaned, fall back to facts taken from the
trajectories when a model returns nothing usable (a name that is a sentence rather than a short noun
phrase names the skill after the trajectories' task kind), and are assembled into a `SKILL.md` that
is validated before it is saved.
The skill the attempts used (or the most similar one) is revised; a draft that duplicates an
existing skill is merged into it; otherwise a new skill is created.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import zip_longest

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from coachgraph.skills.library import SkillLibrary
from coachgraph.skills.model import Skill, SkillKind, Trajectory
from coachgraph.skills.prompts import SKILL_PROMPTS
from coachgraph.skills.sections import (
    SECTIONS,
    assemble_body,
    clean_lines,
    merge_sections,
    name_from_answer,
    parse_sections,
    slugify,
)

__all__ = ["Reflection", "ReflectionAction", "SkillWriter", "record_outcomes", "retire_failing"]

logger = logging.getLogger(__name__)


class ReflectionAction(StrEnum):
    CREATE = "create"
    REVISE = "revise"
    MERGE = "merge"


@dataclass(frozen=True, slots=True)
class Reflection:
    """What reflective writing did and the skill it saved."""

    action: ReflectionAction
    skill: Skill


class SkillWriter:
    """Writes skills from trajectories with a chat model.

    Args:
        model: any langchain-core chat model.
        library: where skills are read and saved.
        revise_threshold: search score above which the most similar skill is revised.
        merge_threshold: search score above which a new draft is merged into an existing skill.
        max_attempts: attempts shown to the model (wrong and correct ones in turn); every question
            repeats them, so they set the length of each prompt. The evidence line counts them all.
    """

    def __init__(self, model: BaseChatModel, library: SkillLibrary, revise_threshold: float = 0.9,
                 merge_threshold: float = 0.8, max_attempts: int = 6) -> None:
        self.model = model
        self.max_attempts = max_attempts
        self.library = library
        self.revise_threshold = revise_threshold
        self.merge_threshold = merge_threshold

    def reflect(self, trajectories: Sequence[Trajectory]) -> Reflection:
        """Create, revise or merge one skill from `trajectories` (at least one)."""
        target = self._target(trajectories)
        draft = self._draft(trajectories, target)
        if target is not None:
            return Reflection(ReflectionAction.REVISE, self._combine(target, draft))
        duplicate = self._similar(f"{draft.name.replace('-', ' ')}: {draft.description}", self.merge_threshold)
        if duplicate is not None:
            return Reflection(ReflectionAction.MERGE, self._combine(duplicate, draft))
        return Reflection(ReflectionAction.CREATE, self.library.add(self._unique(draft)))

    def _target(self, trajectories: Sequence[Trajectory]) -> Skill | None:
        used = [t.skill for t in trajectories if t.skill and t.skill in self.library]
        if used:
            return self.library.get(max(set(used), key=used.count))
        return self._similar(" ".join(t.task for t in trajectories), self.revise_threshold)

    def _similar(self, text: str, threshold: float) -> Skill | None:
        hits = self.library.search(text, 1)
        return self.library.get(hits[0].id) if hits and hits[0].score >= threshold else None

    def _ask(self, keys: Sequence[str], trajectories: Sequence[Trajectory], existing: Skill | None) -> dict[str, str]:
        """Each key's question answered; the questions are independent, so they go as one batch."""
        system = SystemMessage(SKILL_PROMPTS.render("reflect", "system"))
        shown = _alternate(trajectories, self.max_attempts)
        attempts = SKILL_PROMPTS.render("reflect", "attempts", trajectories=shown, existing=existing)
        prompts = [SKILL_PROMPTS.render("reflect", key, attempts=attempts) for key in keys]
        replies = self.model.batch([[system, HumanMessage(prompt)] for prompt in prompts])
        return {key: str(reply.content) for key, reply in zip(keys, replies, strict=True)}

    def _draft(self, trajectories: Sequence[Trajectory], existing: Skill | None) -> Skill:
        fallback = _fallbacks(trajectories)
        answers = self._ask([*SECTIONS, "description", *(() if existing else ("name",))], trajectories, existing)
        sections = {key: clean_lines(answers[key]) or fallback[key] for key in SECTIONS}
        description = _sentence(answers["description"]) or fallback["description"][0]
        name = existing.name if existing else _name(answers["name"], fallback["name"][0])
        kind = existing.kind.value if existing else SkillKind.PROCEDURE.value
        body = assemble_body(name, sections, len(trajectories), sum(t.success for t in trajectories))
        return Skill(name=name, description=description, body=body).with_meta(kind=kind)

    def _combine(self, existing: Skill, draft: Skill) -> Skill:
        merged = merge_sections(parse_sections(existing.body), parse_sections(draft.body))
        body = assemble_body(existing.name, merged, None, None)
        return self.library.revise(existing.model_copy(update={"body": body}))

    def _unique(self, draft: Skill) -> Skill:
        name, n = draft.name, 2
        while name in self.library:
            name = f"{draft.name[:60]}-{n}"
            n += 1
        return draft.model_copy(update={"name": name})


def _name(answer: str, topic: str) -> str:
    """The model's name when it is a short noun phrase, else the trajectories' topic (their task kind).

    >>> _name("Adding Fractions", "fractions"), _name("This skill requires a bit of practice.", "arithmetic.add-2d")
    ('adding-fractions', 'arithmetic-add-2d')
    >>> _name("", "")
    'learned-skill'
    """
    return name_from_answer(answer) or slugify(topic) or "learned-skill"


def _alternate(trajectories: Sequence[Trajectory], limit: int) -> list[Trajectory]:
    """At most `limit` trajectories, wrong and correct ones in turn, so both kinds of question have material.

    >>> rows = [Trajectory(task=str(i), steps="", success=i < 2) for i in range(6)]
    >>> [(t.task, t.success) for t in _alternate(rows, 4)]
    [('2', False), ('0', True), ('3', False), ('1', True)]
    """
    wrong = [t for t in trajectories if not t.success]
    right = [t for t in trajectories if t.success]
    turns = [t for pair in zip_longest(wrong, right) for t in pair if t is not None]
    return turns[:limit]


def _sentence(text: str) -> str:
    lines = clean_lines(text)
    first = lines[0] if lines else ""
    return first[:1024].strip()


def _fallbacks(trajectories: Sequence[Trajectory]) -> dict[str, list[str]]:
    kinds = [t.task_kind for t in trajectories if t.task_kind]
    topic = kinds[0] if kinds else " ".join(re.findall(r"[A-Za-z]+", trajectories[0].task)[:4])
    return {
        "name": [topic],
        "description": [f"Solve tasks like: {trajectories[0].task[:200]}"],
        "worked": [t.verdict or "The correct attempt's steps" for t in trajectories if t.success][:4] or ["No attempt succeeded yet."],
        "mistakes": [t.verdict or "The wrong attempt's answer" for t in trajectories if not t.success][:4] or ["None seen yet."],
        "workflow": ["Read the task and list what is given and asked.", "Work step by step.", "Check the answer against the task."],
    }


def record_outcomes(library: SkillLibrary, trajectories: Sequence[Trajectory]) -> int:
    """Count each trajectory's outcome against the skill it used; return how many counted."""
    counted = [t for t in trajectories if t.skill]
    for t in counted:
        library.stats.record(t.skill or "", t.success, t.student, t.task_kind)
    return len(counted)


def retire_failing(library: SkillLibrary, min_uses: int = 5, max_utility: float = 0.25,
                   names: Iterable[str] | None = None) -> list[str]:
    """Remove skills used at least `min_uses` times whose utility is below `max_utility`.

    `names` limits the candidates (e.g. to skills written by reflection, keeping curated ones).
    """
    pool = library.names() if names is None else [n for n in dict.fromkeys(names) if n in library]
    failing = [n for n in pool if _failing(library, n, min_uses, max_utility)]
    for name in failing:
        library.remove(name)
        logger.info("retired skill %s (utility %.2f)", name, library.stats.utility(name))
    return failing


def _failing(library: SkillLibrary, name: str, min_uses: int, max_utility: float) -> bool:
    usage = library.stats.usage(name)
    return usage.uses >= min_uses and usage.utility < max_utility
