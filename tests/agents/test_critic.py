"""The critic: first wrong step by hand, grading, feedback and CRew on a local student."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.agents import first_wrong_step, judge, student_messages
from coachgraph.agents.critic import (
    clip_rewards,
    delta_rewards,
    stated_numbers,
    step_result,
    step_scores,
)
from coachgraph.models import load_chat_model
from coachgraph.types import Attempt, Task
from tests.fakes import ScriptedChatModel

# 15 + 43: ones, tens, total
ADD = ["5 + 3 = 8", "1 + 4 = 5", "15 + 43 = 58"]
CARRY = ["9 + 3 = 12, write 2 carry 1", "5 + 6 + 1 = 12, write 2 carry 1", "59 + 63 = 122"]


def _task(steps: list[str], answer: str, question: str = "What is 15 + 43?") -> Task:
    return Task(id="t1", skill="add-2d", category="add-2d", question=question, answer=answer, steps=steps)


@pytest.mark.parametrize(("text", "expected"), [
    ("5 + 3 = 8\n1 + 4 = 6\n#### 68", 1),         # tens digit wrong
    ("5 + 3 = 9\n1 + 4 = 5\n#### 59", 0),         # ones digit wrong
    ("5 + 3 = 8\n1 + 4 = 5\n15 + 43 = 57", 2),    # both digits right, total wrong
    ("5 + 3 = 8, 1 + 4 = 5, 15 + 43 = 58. #### 85", 2),  # all steps stated, wrong conclusion
    ("I think 8 and 5, so 60", 2),                # no equations: every number counts
    ("no idea", 0),
])
def test_first_wrong_step_by_hand(text: str, expected: int) -> None:
    assert first_wrong_step(text, ADD) == expected


def test_first_wrong_step_with_carries() -> None:
    # the student forgot the carry in the tens column: 5 + 6 = 11 instead of 12
    assert first_wrong_step("9 + 3 = 12, write 2 carry 1\n5 + 6 = 11\n#### 112", CARRY) == 1
    assert step_result(CARRY[0]) == "12"
    assert stated_numbers("5 + 6 = 11, then = 1,120") == ["11", "1120"]


def test_no_blame_for_correct_answers_or_missing_steps() -> None:
    assert first_wrong_step("#### 58", ADD, correct=True) is None
    assert first_wrong_step("#### 3", []) is None


def test_judge_grades_and_explains() -> None:
    task = _task(ADD, "58")
    attempt, verdict = judge(task, Attempt(task_id="t1", text="5 + 3 = 8\n1 + 4 = 6\n#### 68"))
    assert (attempt.extracted, attempt.correct) == ("68", False)
    assert verdict.first_wrong_step == 1 and verdict.scores == {"reward": 0.0, "outcome": 0.0}
    assert verdict.feedback == "Expected 58, got 68. First wrong step 1: 1 + 4 = 5."
    right, verdict = judge(task, Attempt(task_id="t1", text="#### 58"), model=ScriptedChatModel())
    assert right.correct and verdict.first_wrong_step is None
    assert verdict.scores == {"reward": 1.0, "outcome": 1.0}  # no CRew for a model without local log-probs


def test_process_rewards_refine_the_outcome_reward() -> None:
    task = _task(ADD, "58")  # three reference steps; the answer gets the first right, then goes wrong
    text = "5 + 3 = 8\n1 + 4 = 6\n#### 68"
    assert step_scores(3, 1) == [1.0, 0.0, 0.0]
    _, clip = judge(task, Attempt(task_id="t1", text=text), process="clip")
    assert clip.scores["reward"] == -1.0  # 0 outcome, two steps below eta=0.5 at -0.5 each
    _, delta = judge(task, Attempt(task_id="t1", text=text), process="delta")
    assert delta.scores["reward"] == 1.0  # telescopes to the first step's score
    _, both = judge(task, Attempt(task_id="t1", text=text), process="clip+delta")
    assert both.scores["reward"] == 0.0  # clipped scores [0, -0.5, -0.5] telescope to 0
    _, right = judge(task, Attempt(task_id="t1", text="#### 58"), process="clip")
    assert right.scores == {"reward": 1.0, "outcome": 1.0}
    assert clip_rewards([0.9, 0.1], 0.5) == pytest.approx([0.0, -0.4]) and delta_rewards([0.2]) == [0.2]


def test_judge_scores_crew_on_a_local_student(tiny_path: Path) -> None:
    model = load_chat_model(f"hf:{tiny_path}", precision="fp32")
    task = _task(["2 + 3 = 5"], "5", "What is two plus three?")
    chat = student_messages(task)
    _, verdict = judge(task, Attempt(task_id="t1", text="two plus three is 5"), chat, model)
    assert 0.0 < verdict.scores["crew"] <= 1.0 and verdict.scores["reward"] == 1.0
    _, wrong = judge(task, Attempt(task_id="t1", text="it is 6"), chat, model)
    assert "crew" not in wrong.scores
