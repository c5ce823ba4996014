"""Rubric prototypes: skills of kind rubric whose body lists weighted criteria.

The critic routes a subgoal to its prototype (SCRIBE's skill prototypes) and asks a chat model
one yes/no question per criterion; the score is the weighted share of criteria met. A criterion
line in the body reads ``- (0.4) criterion-name: what must hold``.
"""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from coachgraph.errors import SkillValidationError
from coachgraph.skills.model import Skill, SkillKind
from coachgraph.skills.prompts import SKILL_PROMPTS
from coachgraph.skills.router import Route, SkillRouter

__all__ = ["Criterion", "RubricScore", "parse_criteria", "route_subgoal", "score_against"]

_LINE = re.compile(r"^\s*[-*]\s*\((\d*\.?\d+)\)\s*([a-z0-9][a-z0-9-]*)\s*:\s*(.+?)\s*$", re.M)
_YES_NO = re.compile(r"\b(yes|no)\b", re.I)


class Criterion(BaseModel):
    """One weighted check of a rubric."""

    name: str
    weight: float = Field(gt=0)
    text: str


class RubricScore(BaseModel):
    """Which criteria were met and the weighted score in [0, 1]."""

    rubric: str
    met: dict[str, bool]
    score: float


def parse_criteria(skill: Skill) -> list[Criterion]:
    """The weighted criteria of a rubric skill; raise naming the skill if it has none."""
    if skill.kind is not SkillKind.RUBRIC:
        raise SkillValidationError(f"skill {skill.name!r} is of kind {skill.kind.value}, not rubric", field="metadata.coachgraph.kind")
    criteria = [Criterion(name=n, weight=float(w), text=t) for w, n, t in _LINE.findall(skill.body)]
    if not criteria:
        raise SkillValidationError(f"rubric {skill.name!r} lists no '- (weight) name: text' criteria", field="body")
    return criteria


def route_subgoal(router: SkillRouter, subgoal: str) -> Route:
    """The rubric prototype for `subgoal` (or an abstention), among rubric skills only."""
    return router.route(subgoal, kind=SkillKind.RUBRIC)


def _met(model: BaseChatModel, rubric: Skill, criterion: Criterion, subgoal: str, text: str) -> bool:
    prompt = SKILL_PROMPTS.render("rubric", "criterion", rubric=rubric.description, subgoal=subgoal, text=text, criterion=criterion.text)
    reply = str(model.invoke([SystemMessage(SKILL_PROMPTS.render("rubric", "system")), HumanMessage(prompt)]).content)
    found = _YES_NO.search(reply)
    return bool(found) and found.group(1).lower() == "yes"


def score_against(model: BaseChatModel, rubric: Skill, subgoal: str, text: str) -> RubricScore:
    """Ask `model` about each criterion; an unclear answer counts as not met."""
    criteria = parse_criteria(rubric)
    met = {c.name: _met(model, rubric, c, subgoal, text) for c in criteria}
    total = sum(c.weight for c in criteria)
    score = sum(c.weight for c in criteria if met[c.name]) / total
    return RubricScore(rubric=rubric.name, met=met, score=round(score, 4))
