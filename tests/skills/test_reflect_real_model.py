"""Reflective writing with the embedded chat model and embeddings on real trajectories."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.models import load_chat_model, load_embeddings
from coachgraph.skills import ReflectionAction, SkillLibrary, SkillWriter, Trajectory, read_skill

TRAJECTORIES = [
    Trajectory(task="Tom has 3 apples and buys 5 more. How many apples does he have?", steps="3 + 5 = 8. Answer: 8", success=True, verdict="Correct: added the two amounts.", task_kind="word-problems"),
    Trajectory(task="A box holds 12 pens. How many pens are in 4 boxes?", steps="12 + 4 = 16. Answer: 16", success=False, verdict="Wrong: equal groups need multiplication, 12 x 4 = 48.", task_kind="word-problems"),
    Trajectory(task="Sara had 20 stickers and gave away 7. How many are left?", steps="20 - 7 = 13. Answer: 13", success=True, verdict="Correct: taking away is subtraction.", task_kind="word-problems"),
]


@pytest.mark.slow
def test_embedded_model_writes_a_valid_skill(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path / "lib", load_embeddings("minilm"))
    result = SkillWriter(load_chat_model("smollm2", max_tokens=96), library).reflect(TRAJECTORIES)
    assert result.action is ReflectionAction.CREATE
    stored = read_skill(library.root / result.skill.name)
    assert stored == result.skill and 1 <= len(stored.description) <= 1024
    assert "## Workflow" in stored.body and "## Mistakes to avoid" in stored.body
    first = result.skill.name.split("-")[0]
    assert result.skill.name == "word-problems" or first not in {"this", "the", "it", "a", "to", "sure"}, result.skill.name
