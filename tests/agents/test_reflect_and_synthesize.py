"""Reflection into the library from a step's graded attempts, and STAT-Syn problem writing."""

from __future__ import annotations

from coachgraph.agents import step_trajectories
from coachgraph.agents.teacher import synthesize
from coachgraph.tasks import ArithmeticDomain
from coachgraph.types import Attempt, StepItem, Task, Verdict
from tests.fakes import ScriptedChatModel

DOMAIN = ArithmeticDomain()


def _step(tasks: list[Task], texts: list[list[str]], used: list[list[str]]) -> list[StepItem]:
    items = []
    for task, row, names in zip(tasks, texts, used, strict=True):
        graded = [Attempt(task_id=task.id, text=t, sample=j, correct=t.endswith(f"#### {task.answer}"))
                  for j, t in enumerate(row)]
        verdicts = [Verdict(task_id=task.id, correct=bool(a.correct), feedback="ok" if a.correct else "wrong sum")
                    for a in graded]
        items.append(StepItem(task=task, skills=names, attempts=graded, verdicts=verdicts))
    return items


def test_trajectories_come_from_the_category_that_failed_most() -> None:
    add, sub = DOMAIN.heldout("add-2d-carry")[0], DOMAIN.heldout("sub-1d")[0]
    items = _step([add, sub], [["#### 1", f"#### {add.answer}"], ["#### 0", "#### 0"]], [["column-addition"], []])
    trajectories = step_trajectories(items, DOMAIN, "r1")
    assert [t.task_kind for t in trajectories] == ["arithmetic.sub-1d"] * 2
    assert not any(t.success for t in trajectories) and trajectories[0].verdict == "wrong sum"
    assert step_trajectories(_step([sub], [[f"#### {sub.answer}"]], [[]]), DOMAIN) == []


def test_synthesize_keeps_a_problem_only_when_solutions_agree() -> None:
    examples = ArithmeticDomain().heldout("add-2d")[:3]
    agreeing = ScriptedChatModel(by_marker={"missing the skill": "Sam has 21 pens and buys 34 more. How many now?",
                                            "Solve this problem": "21 + 34 = 55\n#### 55"})
    task = synthesize(agreeing, "add-2d", examples, seed=0)
    assert task is not None and task.answer == "55" and task.skill == "add-2d"
    assert task.metadata["synthesized"] and task.metadata["agreeing"] == 3
    disagreeing = ScriptedChatModel(answers=["#### 1", "#### 2", "#### 3"],
                                    by_marker={"missing the skill": "Sam has 21 pens and buys 34 more. How many now?"})
    assert synthesize(disagreeing, "add-2d", examples, seed=0) is None
    wordless = ScriptedChatModel(by_marker={"missing the skill": "No numbers here."})
    assert synthesize(wordless, "add-2d", examples, seed=0) is None
