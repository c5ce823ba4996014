"""SKILL.md parsing, rendering and validation against the Agent Skills spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.errors import SkillValidationError
from coachgraph.skills import (
    Skill,
    discover,
    parse_skill_md,
    read_skill,
    render_skill_md,
    starter_dir,
)
from coachgraph.skills.spec import folder_problems

GOOD = """---
name: add-fractions
description: Add fractions with unlike denominators.
license: MIT
metadata:
  coachgraph.kind: problem-skill
  coachgraph.version: "2"
  coachgraph.prerequisites: lcm-basics
  coachgraph.difficulty: "0.4"
---
# Adding fractions
Find the LCM.
"""


def _with(front: str) -> str:
    return f"---\n{front}\n---\nbody\n"


def test_round_trip() -> None:
    skill = parse_skill_md(GOOD, folder="add-fractions")
    assert (skill.kind.value, skill.version, skill.prerequisites, skill.difficulty) == ("problem-skill", 2, ["lcm-basics"], 0.4)
    assert parse_skill_md(render_skill_md(skill), folder="add-fractions") == skill


@pytest.mark.parametrize(
    ("front", "field", "message"),
    [
        ("description: no name here", "name", "required"),
        ("name: Add_Fractions\ndescription: d", "name", "lowercase letters, digits and hyphens"),
        ("name: -add\ndescription: d", "name", "start or end with a hyphen"),
        ("name: add--fractions\ndescription: d", "name", "consecutive hyphens"),
        ("name: " + "a" * 65 + "\ndescription: d", "name", "at most 64"),
        ("name: add\ndescription: d\nversion: 2", "version", "unexpected top-level field"),
        ("name: add\ndescription: " + "x" * 1025, "description", "at most 1024"),
        ("name: add", "description", "required"),
        ("name: add\ndescription: d\ncompatibility: " + "c" * 501, "compatibility", "1 to 500"),
        ("name: add\ndescription: d\nmetadata:\n  nested:\n    a: b", "metadata.nested", "values must be strings"),
        ("name: add\ndescription: d\nmetadata:\n  coachgraph.kind: essay", "metadata.coachgraph.kind", "must be one of"),
        ("name: add\ndescription: d\nmetadata:\n  coachgraph.difficulty: hard", "metadata.coachgraph.difficulty", "between 0 and 1"),
    ],
)
def test_invalid_front_matter_names_file_and_field(front: str, field: str, message: str) -> None:
    with pytest.raises(SkillValidationError, match=message) as caught:
        parse_skill_md(_with(front), source="skills/x/SKILL.md")
    assert caught.value.field == field
    assert caught.value.source == "skills/x/SKILL.md"
    assert str(caught.value).startswith(f"skills/x/SKILL.md: {field}:")


def test_name_must_match_folder_and_flow_style_is_rejected() -> None:
    with pytest.raises(SkillValidationError, match="folder name 'other'"):
        parse_skill_md(GOOD, folder="other")
    with pytest.raises(SkillValidationError, match="flow-style"):
        parse_skill_md(_with("name: add\ndescription: d\nmetadata: {a: b}"))
    with pytest.raises(SkillValidationError, match="front matter"):
        parse_skill_md("# no front matter")


def test_metadata_numbers_are_coerced_to_strings() -> None:
    skill = parse_skill_md(_with("name: add\ndescription: d\nmetadata:\n  coachgraph.version: 3"), folder="add")
    assert skill.metadata == {"coachgraph.version": "3"}


def test_folder_problems_lists_all_and_bounds_size(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "SKILL.md").write_text(_with("name: Bad\nextra: 1"))
    fields = {p.field for p in folder_problems(folder)}
    assert {"name", "extra", "description"} <= fields
    (folder / "SKILL.md").write_text(_with("name: bad\ndescription: d") + "x" * 300_000)
    with pytest.raises(SkillValidationError, match="limit is"):
        read_skill(folder)


def test_starter_skills_are_valid() -> None:
    folders = discover(starter_dir())
    assert len(folders) >= 15
    skills = [read_skill(f) for f in folders]
    assert {s.kind.value for s in skills} == {"procedure", "problem-skill", "rubric", "agent-skill"}
    assert all(isinstance(s, Skill) and s.version == 1 for s in skills)
