"""Reflective writing with a scripted chat model: create, revise, merge, repair, retire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from coachgraph.skills import (
    ReflectionAction,
    Skill,
    SkillLibrary,
    SkillWriter,
    Trajectory,
    read_skill,
    record_outcomes,
    retire_failing,
)
from tests.fakes import HashEmbeddings, ScriptedChatModel

ANSWERS = {
    "Give a short name": "Adding Fractions",
    "In one sentence": "Add fractions with unlike denominators by finding a common denominator.",
    "What worked": "1. Found the LCM of the denominators\n2. Rewrote both fractions",
    "What mistakes": "- Added the denominators\n- Added the denominators",
    "Write the steps": "Step 1: find the LCM\nStep 2: rewrite\nStep 3: add numerators",
}

TRAJECTORIES = [
    Trajectory(task="1/2 + 1/3 = ?", steps="LCM is 6, 3/6 + 2/6 = 5/6", success=True, verdict="correct", task_kind="fractions"),
    Trajectory(task="1/4 + 1/6 = ?", steps="1+1 over 4+6 = 2/10", success=False, verdict="added denominators", task_kind="fractions"),
]


def _library(tmp_path: Path) -> SkillLibrary:
    lib = SkillLibrary(tmp_path / "lib", HashEmbeddings(dims=32))
    lib.add(Skill(name="socratic-hint", description="Give a hint as a guiding question.", body="Ask."))
    return lib


def test_create_writes_a_valid_skill(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    writer = SkillWriter(ScriptedChatModel(by_marker=ANSWERS), lib, revise_threshold=1.1, merge_threshold=1.1)
    result = writer.reflect(TRAJECTORIES)
    assert result.action is ReflectionAction.CREATE and result.skill.name == "adding-fractions"
    stored = read_skill(lib.root / "adding-fractions")
    assert stored.description.startswith("Add fractions with unlike")
    assert stored.body.count("Added the denominators") == 1
    assert "1. find the LCM" in stored.body and "Written from 2 attempts, 1 of them correct." in stored.body


def test_revise_targets_the_skill_the_attempts_used(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    used = [t.model_copy(update={"skill": "socratic-hint"}) for t in TRAJECTORIES]
    result = SkillWriter(ScriptedChatModel(by_marker=ANSWERS), lib).reflect(used)
    assert result.action is ReflectionAction.REVISE and result.skill.name == "socratic-hint"
    assert lib.versions("socratic-hint") == [1, 2] and "Added the denominators" in lib.get("socratic-hint").body


def test_near_duplicate_draft_is_merged(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    lib.add(Skill(name="adding-fractions", description="Add fractions with unlike denominators by finding a common denominator.", body="## What worked\n- Drew a picture"))
    result = SkillWriter(ScriptedChatModel(by_marker=ANSWERS), lib, revise_threshold=1.1, merge_threshold=0.5).reflect(TRAJECTORIES)
    assert result.action is ReflectionAction.MERGE and result.skill.name == "adding-fractions"
    body = lib.get("adding-fractions").body
    assert "Drew a picture" in body and "Found the LCM of the denominators" in body
    assert lib.names() == ["adding-fractions", "socratic-hint"]


def test_unusable_answers_fall_back_to_the_trajectories(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    writer = SkillWriter(ScriptedChatModel(answers=["", "!!", ""]), lib, revise_threshold=1.1, merge_threshold=1.1)
    result = writer.reflect(TRAJECTORIES)
    assert result.skill.name == "fractions"
    assert "added denominators" in result.skill.body and result.skill.description.startswith("Solve tasks like")


def test_outcomes_update_utility_and_failing_skills_retire(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    attempts = [Trajectory(task="t", steps="s", success=False, skill="socratic-hint")] * 6
    assert record_outcomes(lib, attempts) == 6
    assert lib.stats.utility("socratic-hint") == pytest.approx(1 / 8)
    assert retire_failing(lib, min_uses=5, max_utility=0.25) == ["socratic-hint"]
    assert "socratic-hint" not in lib and lib.versions("socratic-hint") == [1]


def test_a_name_answered_with_a_sentence_falls_back_to_the_task_kind(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    chatty = {**ANSWERS, "Give a short name": "This skill requires a bit of practice with fractions."}
    result = SkillWriter(ScriptedChatModel(by_marker=chatty), lib, revise_threshold=1.1, merge_threshold=1.1).reflect(TRAJECTORIES)
    assert result.action is ReflectionAction.CREATE and result.skill.name == "fractions"
    labelled = {**ANSWERS, "Give a short name": "**Name:** Common Denominators\nBecause the attempts ..."}
    again = SkillWriter(ScriptedChatModel(by_marker=labelled), _library(tmp_path / "b"), revise_threshold=1.1,
                        merge_threshold=1.1).reflect(TRAJECTORIES)
    assert again.skill.name == "common-denominators"


class _CountingBatches(ScriptedChatModel):
    """Records the size of every `batch` call, so a test can see the questions go together."""

    batches: list[int] = Field(default_factory=list)

    def batch(self, inputs: list[Any], config: Any = None, **kwargs: Any) -> list[Any]:
        self.batches.append(len(inputs))
        return super().batch(inputs, config, **kwargs)


def test_the_questions_of_a_draft_go_to_the_model_as_one_batch(tmp_path: Path) -> None:
    model = _CountingBatches(by_marker=ANSWERS)
    SkillWriter(model, _library(tmp_path), revise_threshold=1.1, merge_threshold=1.1).reflect(TRAJECTORIES)
    assert model.batches == [5] and len(model.calls) == 5
    used = [t.model_copy(update={"skill": "socratic-hint"}) for t in TRAJECTORIES]
    revising = _CountingBatches(by_marker=ANSWERS)
    SkillWriter(revising, _library(tmp_path / "r")).reflect(used)
    assert revising.batches == [4] and not any("Give a short name" in str(c[-1].content) for c in revising.calls)


def test_the_model_sees_at_most_max_attempts_while_the_evidence_counts_all(tmp_path: Path) -> None:
    many = [t.model_copy(update={"task": f"{i}/2 + 1/3 = ?"}) for i in range(5) for t in TRAJECTORIES]
    model = ScriptedChatModel(by_marker=ANSWERS)
    writer = SkillWriter(model, _library(tmp_path), revise_threshold=1.1, merge_threshold=1.1, max_attempts=3)
    result = writer.reflect(many)
    prompt = str(model.calls[0][-1].content)
    assert prompt.count("Attempt ") == 3 and "(wrong)" in prompt and "(correct)" in prompt
    assert "Written from 10 attempts, 5 of them correct." in result.skill.body
