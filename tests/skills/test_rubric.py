"""Rubric prototypes: parsing criteria, routing a subgoal, scoring with a chat model."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.errors import SkillValidationError
from coachgraph.skills import (
    SkillLibrary,
    SkillRouter,
    install_starter,
    parse_criteria,
    route_subgoal,
    score_against,
)
from tests.fakes import HashEmbeddings, ScriptedChatModel


def test_route_and_score_against_prototype(tmp_path: Path) -> None:
    lib = SkillLibrary(tmp_path / "lib", HashEmbeddings(dims=32))
    install_starter(lib)
    route = route_subgoal(SkillRouter(lib), "check that the candidate answer satisfies the constraints of the problem")
    assert route.skill == "rubric-check-constraints"
    rubric = lib.get(route.skill)
    assert [c.weight for c in parse_criteria(rubric)] == [0.4, 0.4, 0.2]
    judge = ScriptedChatModel(answers=["Yes.", "no", "I think YES"])
    score = score_against(judge, rubric, "check constraints", "x=3 satisfies x>2 and x<5")
    assert score.met == {"constraints-listed": True, "each-checked": False, "conclusion": True}
    assert score.score == pytest.approx(0.6)
    with pytest.raises(SkillValidationError, match="not rubric"):
        parse_criteria(lib.get("socratic-hint"))
