"""Reflection into the library from a step's graded attempts, and STAT-Syn problem writing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from coachgraph.agents import reflect_node, step_trajectories, student_messages, teacher_node
from coachgraph.agents.context import AgentContext
from coachgraph.agents.teacher import synthesize
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import ArithmeticDomain
from coachgraph.types import Attempt, Task, Verdict
from tests.agents.conftest import MakeContext
from tests.fakes import ScriptedChatModel


def _step(tasks: list[Task], texts: list[list[str]], used: list[list[str]]) -> dict[str, Any]:
    attempts, verdicts = [], []
    for task, row in zip(tasks, texts, strict=True):
        graded = [Attempt(task_id=task.id, text=t, sample=j, correct=t.endswith(f"#### {task.answer}"))
                  for j, t in enumerate(row)]
        attempts.append([a.model_dump(mode="json") for a in graded])
        verdicts.append([Verdict(task_id=task.id, correct=bool(a.correct), feedback="ok" if a.correct else "wrong sum")
                         .model_dump(mode="json") for a in graded])
    return {"step": 4, "run_id": "r1", "tasks": [t.model_dump(mode="json") for t in tasks],
            "attempts": attempts, "verdicts": verdicts, "used_skills": used}


def test_trajectories_come_from_the_category_that_failed_most() -> None:
    add, sub = ArithmeticDomain().heldout("add-2d-carry")[0], ArithmeticDomain().heldout("sub-1d")[0]
    state = _step([add, sub], [["#### 1", f"#### {add.answer}"], ["#### 0", "#### 0"]], [["column-addition"], []])
    trajectories = step_trajectories(state, "r1")
    assert [t.task_kind for t in trajectories] == ["arithmetic.sub-1d"] * 2
    assert not any(t.success for t in trajectories) and trajectories[0].verdict == "wrong sum"
    assert step_trajectories(_step([sub], [[f"#### {sub.answer}"]], [[]])) == []


def test_reflect_node_writes_once_and_counts_skill_outcomes(make_context: MakeContext, tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path / "lib", embeddings=None)
    install_starter(library)
    add = ArithmeticDomain().heldout("add-2d-carry")[0]
    writer = ScriptedChatModel(answers=["Write the carry above the next column before adding it."])
    base = make_context(ScriptedChatModel())
    ctx = AgentContext(**{**{f: getattr(base, f) for f in base.__dataclass_fields__},
                          "library": library, "teacher_model": writer})
    state = _step([add], [["#### 1", "#### 2"]], [["column-addition"]])
    state["skill_outcomes"] = [{"skill": "column-addition", "success": False, "task_kind": "arithmetic.add-2d-carry",
                                "step": s} for s in (3, 4)]
    update = reflect_node(state, Runtime(context=ctx))
    [record] = update["reflections"]
    assert record["step"] == 4 and record["counted"] == 2 and record["action"] == "revise"
    assert record["skill"] == "column-addition" and library.get("column-addition").version == 2
    assert library.stats.usage("column-addition").uses == 2
    calls = len(writer.calls)
    assert reflect_node(state, Runtime(context=ctx)) == update  # a re-run after a kill changes nothing
    assert len(writer.calls) == calls and library.get("column-addition").version == 2
    assert json.loads((ctx.run_dir / "reflections" / "step-000004.json").read_text()) == record


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


def test_teacher_node_adds_syntheses_for_missing_skills(make_context: MakeContext) -> None:
    failed = ArithmeticDomain().heldout("sub-2d")[:2]
    writer = ScriptedChatModel(by_marker={"missing the skill": "Ana had 58 cards and gave away 23. How many left?",
                                          "Solve this problem": "#### 35"})
    ctx = make_context(ScriptedChatModel(), teacher_model=writer, synthesize=1, batch_size=1)
    state = {"step": 0, "plan": [{"skill": "add-1d", "reason": "r"}],
             "failed": [t.model_dump(mode="json") for t in failed]}
    tasks = [Task.model_validate(t) for t in teacher_node(state, Runtime(context=ctx))["tasks"]]
    assert len(tasks) == 2 and tasks[1].skill == "sub-2d" and tasks[1].answer == "35"
    assert student_messages(tasks[1])[1]["content"].startswith("Ana had 58 cards")
