"""The curriculum graph's nodes, called directly with a runtime context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from langgraph.runtime import Runtime

from coachgraph.agents import reformulate, student_messages
from coachgraph.errors import InputError
from coachgraph.graphs.curriculum.nodes import (
    critic_node,
    evaluate_node,
    learn_node,
    planner_node,
    reflect_node,
    student_node,
    teacher_node,
)
from coachgraph.graphs.curriculum.state import CurriculumState, read_items
from coachgraph.graphs.curriculum.students import trainer_folder
from coachgraph.models import load_student, sample_replies
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import ArithmeticDomain
from coachgraph.types import Attempt, StepItem, Task, Verdict
from tests.fakes import ScriptedChatModel
from tests.graphs.curriculum.conftest import MakeContext

ROOTS = {"add-1d", "sub-1d", "mul-1d"}


def _start(ctx: Any) -> CurriculumState:
    """The state a run starts from: step 0 and the curriculum algorithm's initial state."""
    return {"step": 0, "curriculum_state": json.dumps(ctx.curriculum.state_dict())}


def _planned(ctx: Any) -> CurriculumState:
    state = _start(ctx)
    return {**state, **planner_node(state, Runtime(context=ctx))}


def _tasks(update: CurriculumState) -> list[Task]:
    return [item.task for item in read_items(update)]


def test_planner_respects_gating_records_reasons_and_repeats(make_context: MakeContext) -> None:
    ctx = make_context(ScriptedChatModel(), spec="prereq-gate+sec", batch_size=6)
    start = _start(ctx)
    first = planner_node(start, Runtime(context=ctx))
    assert {s["skill"] for s in first["plan"]} <= ROOTS  # nothing is mastered yet
    assert all(s["reason"].startswith("step 0: sec: P=") and "unlocked: add-1d, sub-1d, mul-1d"
               in s["reason"] for s in first["plan"])
    assert first["curriculum"] == first["plan"]
    assert json.loads(first["curriculum_state"])["base"]["name"] == "sec"
    again = planner_node(start, Runtime(context=ctx))  # a re-run after a kill
    assert again == first
    later = planner_node({"step": 1, "curriculum_state": first["curriculum_state"]}, Runtime(context=ctx))
    assert later["plan"][0]["step"] == 6 and later["plan"][0]["reason"].startswith("step 1:")


def test_teacher_draws_the_planned_skills_deterministically(make_context: MakeContext) -> None:
    ctx = make_context(ScriptedChatModel(), batch_size=4, seed=3)
    state = _planned(ctx)
    tasks = _tasks(teacher_node(state, Runtime(context=ctx)))
    assert [t.skill for t in tasks] == [s["skill"] for s in state["plan"]]
    assert _tasks(teacher_node(state, Runtime(context=ctx))) == tasks
    other = make_context(ScriptedChatModel(), batch_size=4, seed=4)
    assert _tasks(teacher_node(state, Runtime(context=other))) != tasks


def test_teacher_reformulates_failed_problems_behind_a_flag(make_context: MakeContext) -> None:
    failed = ArithmeticDomain().heldout("add-2d")[:2]
    numbers = failed[0].question.removeprefix("What is ").removesuffix("?").split(" + ")
    writer = ScriptedChatModel(by_marker={
        failed[0].question: f"Add {numbers[0]} apples and {numbers[1]} apples. How many?",
        failed[1].question: "Add some apples."})  # loses the numbers: discarded
    on = make_context(ScriptedChatModel(), teacher_model=writer, reformulate=2, batch_size=1)
    state: CurriculumState = {**_planned(on), "failed": [t.model_dump(mode="json") for t in failed]}
    tasks = _tasks(teacher_node(state, Runtime(context=on)))
    assert len(tasks) == 2 and len(writer.calls) == 2
    new = tasks[1]
    assert new.metadata["reformulated_from"] == failed[0].id and new.answer == failed[0].answer
    assert new.question.startswith("Add ") and new.steps == failed[0].steps
    off = make_context(ScriptedChatModel(), teacher_model=writer, batch_size=1)
    assert len(_tasks(teacher_node(state, Runtime(context=off)))) == 1
    assert reformulate(writer, failed[1]) is None


def test_teacher_node_adds_syntheses_for_missing_skills(make_context: MakeContext) -> None:
    failed = ArithmeticDomain().heldout("sub-2d")[:2]
    writer = ScriptedChatModel(by_marker={"missing the skill": "Ana had 58 cards and gave away 23. How many left?",
                                          "Solve this problem": "#### 35"})
    ctx = make_context(ScriptedChatModel(), teacher_model=writer, synthesize=1, batch_size=1)
    state: CurriculumState = {"step": 0, "plan": [{"skill": "add-1d", "reason": "r"}],
                              "failed": [t.model_dump(mode="json") for t in failed]}
    tasks = _tasks(teacher_node(state, Runtime(context=ctx)))
    assert len(tasks) == 2 and tasks[1].skill == "sub-2d" and tasks[1].answer == "35"
    assert student_messages(tasks[1])[1]["content"].startswith("Ana had 58 cards")


def test_student_samples_g_answers_per_task(make_context: MakeContext) -> None:
    student = ScriptedChatModel(answers=["#### 1", "#### 2", "#### 3"])
    ctx = make_context(student, batch_size=2, samples=3)
    state = _planned(ctx)
    state.update(teacher_node(state, Runtime(context=ctx)))
    items = read_items(student_node(state, Runtime(context=ctx)))
    # chat models answer round by round: sample j of every task, then sample j + 1
    assert [[a.text for a in item.attempts] for item in items] == [["#### 1", "#### 3", "#### 2"],
                                                                   ["#### 2", "#### 1", "#### 3"]]
    assert [[a.token_ids for a in item.attempts] for item in items] == [[[], [], []], [[], [], []]]
    assert items[0].prompt == student_messages(read_items(state)[0].task)


def test_critic_node_grades_every_sample(make_context: MakeContext) -> None:
    ctx = make_context(ScriptedChatModel())
    task = Task(id="t1", skill="add-2d", category="add-2d", question="What is 15 + 43?", answer="58",
                steps=["5 + 3 = 8", "1 + 4 = 5", "15 + 43 = 58"])
    item = StepItem(task=task, prompt=student_messages(task),
                    attempts=[Attempt(task_id="t1", text=t, sample=j) for j, t in enumerate(["#### 58", "5 + 3 = 8\n#### 18"])])
    [graded] = read_items(critic_node({"items": [item.model_dump(mode="json")]}, Runtime(context=ctx)))
    assert [a.correct for a in graded.attempts] == [True, False]
    assert [v.first_wrong_step for v in graded.verdicts] == [None, 1]


def test_evaluate_records_greedy_accuracy_per_skill(make_context: MakeContext) -> None:
    held = ArithmeticDomain().heldout("add-1d")[:3]
    student = ScriptedChatModel(answers=["#### -1"],
                                by_marker={t.question: f"#### {t.answer}" for t in held[:2]})
    ctx = make_context(student, skills=("add-1d",), eval_size=3)
    update = evaluate_node({"step": 4}, Runtime(context=ctx))
    assert update == {"history": [{"step": 4, "accuracy": {"add-1d": 2 / 3}, "correct": {"add-1d": "110"}}]}


def test_evaluate_scores_the_evaluated_skills_and_takes_their_initial_accuracy(make_context: MakeContext) -> None:
    held = ArithmeticDomain().heldout("add-2d")[:2]
    student = ScriptedChatModel(answers=["#### -1"], by_marker={held[1].question: f"#### {held[1].answer}"})
    ctx = make_context(student, skills=("add-1d", "add-2d"), eval_size=2, eval_skills=("add-2d",))
    assert evaluate_node({"step": 3}, Runtime(context=ctx)) == {
        "history": [{"step": 3, "accuracy": {"add-2d": 0.5}, "correct": {"add-2d": "01"}}]}
    given = make_context(student, skills=("add-1d", "add-2d"), eval_skills=("add-2d",),
                         initial_accuracy={"add-2d": 0.25})
    assert evaluate_node({"step": 0}, Runtime(context=given)) == {"history": [{"step": 0, "accuracy": {"add-2d": 0.25}}]}
    wrong = make_context(student, skills=("add-1d", "add-2d"), eval_skills=("add-2d",),
                         initial_accuracy={"add-1d": 0.9, "add-2d": 0.25})
    with pytest.raises(InputError, match="initial_accuracy"):
        evaluate_node({"step": 0}, Runtime(context=wrong))


def _graded_state(ctx: Any, model: Any) -> CurriculumState:
    """One add-1d task with two sampled answers, the first marked right and the second wrong."""
    task = ArithmeticDomain().heldout("add-1d")[0]
    chat = student_messages(task)
    replies = sample_replies(model, [chat], n=2, seed=0, temperature=1.0, max_tokens=6)[0]
    attempts = [Attempt(task_id=task.id, text=r.text, sample=j, correct=j == 0, token_ids=list(r.token_ids))
                for j, r in enumerate(replies)]
    return {**_planned(ctx), "items": [StepItem(task=task, prompt=chat, attempts=attempts).model_dump(mode="json")]}


def test_learn_trains_once_saves_and_updates_the_curriculum(make_context: MakeContext, tiny_path: Path) -> None:
    student = load_student(f"hf:{tiny_path}", precision="fp32")
    model, trainer = student.model, student.trainer
    ctx = make_context(model, trainer=trainer, objective="grpo", batch_size=1)
    state = _graded_state(ctx, model)
    update = learn_node(state, Runtime(context=ctx))
    assert update["step"] == 1 and trainer.steps == 1
    assert update["metrics"][0]["mean_reward"] == 0.5 and update["metrics"][0]["tokens"] > 0
    assert update["curriculum_state"] != state["curriculum_state"] and update["failed"] == []
    trained = {k: v.clone() for k, v in trainer.lm.model.state_dict().items()}
    again = learn_node(state, Runtime(context=ctx))  # LangGraph re-running the node after a kill
    assert again == update and trainer.steps == 1
    assert all(torch.equal(v, trainer.lm.model.state_dict()[k]) for k, v in trained.items())
    assert (trainer_folder(ctx.run_dir, 1) / "trainer.pt").is_file()


def test_learn_without_trainer_marks_failures(make_context: MakeContext) -> None:
    ctx = make_context(ScriptedChatModel(), batch_size=1)
    task = ArithmeticDomain().heldout("sub-1d")[0]
    wrong = [Attempt(task_id=task.id, text="#### -1", sample=j) for j in range(2)]
    state: CurriculumState = {**_planned(ctx), "items": [
        StepItem(task=task, prompt=student_messages(task), attempts=wrong).model_dump(mode="json")]}
    update = learn_node(state, Runtime(context=ctx))
    assert update["failed"] == [task.model_dump(mode="json")] and update["metrics"][0]["loss"] == 0.0


def _graded_items(tasks: list[Task], texts: list[list[str]], used: list[list[str]]) -> list[dict[str, Any]]:
    items = []
    for task, row, names in zip(tasks, texts, used, strict=True):
        graded = [Attempt(task_id=task.id, text=t, sample=j, correct=t.endswith(f"#### {task.answer}"))
                  for j, t in enumerate(row)]
        verdicts = [Verdict(task_id=task.id, correct=bool(a.correct), feedback="ok" if a.correct else "wrong sum")
                    for a in graded]
        items.append(StepItem(task=task, skills=names, attempts=graded, verdicts=verdicts).model_dump(mode="json"))
    return items


def test_reflect_node_writes_once_and_counts_skill_outcomes(make_context: MakeContext, tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path / "lib", embeddings=None)
    install_starter(library)
    add = ArithmeticDomain().heldout("add-2d-carry")[0]
    writer = ScriptedChatModel(answers=["Write the carry above the next column before adding it."])
    ctx = make_context(ScriptedChatModel(), library=library, teacher_model=writer)
    state: CurriculumState = {"step": 4, "run_id": "r1",
                              "items": _graded_items([add], [["#### 1", "#### 2"]], [["column-addition"]])}
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
