"""Prompts as package data: every role loads, and a missing slot fails loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.agents import load_prompts, render_prompt, student_messages
from coachgraph.agents.prompts import ROLES
from coachgraph.agents.student import retrieved_skills
from coachgraph.errors import InputError
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import ArithmeticDomain


@pytest.mark.parametrize("role", ROLES)
def test_every_role_ships_templates(role: str) -> None:
    assert load_prompts(role)


def test_a_missing_slot_fails_naming_the_template() -> None:
    with pytest.raises(InputError, match=r"prompt teacher\.reformulate: 'answer' is undefined"):
        render_prompt("teacher", "reformulate", question="What is 2 + 2?")


def test_an_unknown_role_fails() -> None:
    with pytest.raises(InputError, match="no prompts for role"):
        load_prompts("coach")


def test_student_prompt_carries_retrieved_skills(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path / "skills", embeddings=None)
    install_starter(library)
    task = ArithmeticDomain().heldout("add-2d-carry")[0]
    skills = retrieved_skills(library, task, k=1)
    chat = student_messages(task, skills)
    assert skills.startswith("<skill_content name=") and skills in chat[1]["content"]
    assert task.question in chat[1]["content"] and chat[0]["role"] == "system"
    assert "<skill_content" not in student_messages(task)[1]["content"]
    assert retrieved_skills(None, task, k=3) == ""
