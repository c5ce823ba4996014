"""Planner, teacher, student, learn and evaluate nodes, called directly with a runtime context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from langgraph.runtime import Runtime

from coachgraph.agents import (
    evaluate_node,
    learn_node,
    planner_node,
    reformulate,
    student_messages,
    student_node,
    teacher_node,
    trainer_folder,
)
from coachgraph.agents._generation import generate_replies
from coachgraph.models import load_chat_model
from coachgraph.models.training import StudentTrainer
from coachgraph.tasks import ArithmeticDomain
from coachgraph.types import Attempt, Task
from tests.agents.conftest import MakeContext
from tests.fakes import ScriptedChatModel

ROOTS = {"add-1d", "sub-1d", "mul-1d"}


def _start(ctx: Any) -> dict[str, Any]:
    """The state a run starts from: step 0 and the teacher's initial state."""
    return {"step": 0, "teacher_state": json.dumps(ctx.teacher.state_dict())}


def _planned(ctx: Any) -> dict[str, Any]:
    state = _start(ctx)
    return {**state, **planner_node(state, Runtime(context=ctx))}


def test_planner_respects_gating_records_reasons_and_repeats(make_context: MakeContext) -> None:
    ctx = make_context(ScriptedChatModel(), spec="prereq-gate+sec", batch_size=6)
    start = _start(ctx)
    first = planner_node(start, Runtime(context=ctx))
    assert {s["skill"] for s in first["plan"]} <= ROOTS  # nothing is mastered yet
    assert all(s["reason"].startswith("step 0: sec: P=") and "unlocked: add-1d, sub-1d, mul-1d"
               in s["reason"] for s in first["plan"])
    assert first["curriculum"] == first["plan"]
    assert json.loads(first["teacher_state"])["base"]["name"] == "sec"
    again = planner_node(start, Runtime(context=ctx))  # a re-run after a kill
    assert again == first
    later = planner_node({"step": 1, "teacher_state": first["teacher_state"]}, Runtime(context=ctx))
    assert later["plan"][0]["step"] == 6 and later["plan"][0]["reason"].startswith("step 1:")


def test_teacher_draws_the_planned_skills_deterministically(make_context: MakeContext) -> None:
    ctx = make_context(ScriptedChatModel(), batch_size=4, seed=3)
    state = _planned(ctx)
    tasks = teacher_node(state, Runtime(context=ctx))["tasks"]
    assert [t["skill"] for t in tasks] == [s["skill"] for s in state["plan"]]
    assert teacher_node(state, Runtime(context=ctx))["tasks"] == tasks
    other = make_context(ScriptedChatModel(), batch_size=4, seed=4)
    assert teacher_node(state, Runtime(context=other))["tasks"] != tasks


def test_teacher_reformulates_failed_problems_behind_a_flag(make_context: MakeContext) -> None:
    failed = ArithmeticDomain().heldout("add-2d")[:2]
    numbers = failed[0].question.removeprefix("What is ").removesuffix("?").split(" + ")
    writer = ScriptedChatModel(by_marker={
        failed[0].question: f"Add {numbers[0]} apples and {numbers[1]} apples. How many?",
        failed[1].question: "Add some apples."})  # loses the numbers: discarded
    on = make_context(ScriptedChatModel(), teacher_model=writer, reformulate=2, batch_size=1)
    state = {**_planned(on), "failed": [t.model_dump(mode="json") for t in failed]}
    tasks = [Task.model_validate(t) for t in teacher_node(state, Runtime(context=on))["tasks"]]
    assert len(tasks) == 2 and len(writer.calls) == 2
    new = tasks[1]
    assert new.metadata["reformulated_from"] == failed[0].id and new.answer == failed[0].answer
    assert new.question.startswith("Add ") and new.steps == failed[0].steps
    off = make_context(ScriptedChatModel(), teacher_model=writer, batch_size=1)
    assert len(teacher_node(state, Runtime(context=off))["tasks"]) == 1
    assert reformulate(writer, failed[1]) is None


def test_student_samples_g_answers_per_task(make_context: MakeContext) -> None:
    student = ScriptedChatModel(answers=["#### 1", "#### 2", "#### 3"])
    ctx = make_context(student, batch_size=2, samples=3)
    state = _planned(ctx)
    state.update(teacher_node(state, Runtime(context=ctx)))
    update = student_node(state, Runtime(context=ctx))
    # chat models answer round by round: sample j of every task, then sample j + 1
    assert [[a["text"] for a in row] for row in update["attempts"]] == [["#### 1", "#### 3", "#### 2"],
                                                                         ["#### 2", "#### 1", "#### 3"]]
    assert update["completions"] == [[[], [], []], [[], [], []]]
    assert update["prompts"][0] == student_messages(Task.model_validate(state["tasks"][0]))


def test_evaluate_records_greedy_accuracy_per_skill(make_context: MakeContext) -> None:
    held = ArithmeticDomain().heldout("add-1d")[:3]
    student = ScriptedChatModel(answers=["#### -1"],
                                by_marker={t.question: f"#### {t.answer}" for t in held[:2]})
    ctx = make_context(student, eval_skills=("add-1d",), eval_size=3)
    update = evaluate_node({"step": 4}, Runtime(context=ctx))
    assert update == {"history": [{"step": 4, "accuracy": {"add-1d": 2 / 3}}]}


def _graded_state(ctx: Any, model: Any) -> dict[str, Any]:
    """One add-1d task with two sampled answers, the first marked right and the second wrong."""
    task = ArithmeticDomain().heldout("add-1d")[0]
    chat = student_messages(task)
    replies = generate_replies(model, [chat], n=2, seed=0, temperature=1.0, max_tokens=6)[0]
    attempts = [Attempt(task_id=task.id, text=r.text, sample=j, correct=j == 0).model_dump(mode="json")
                for j, r in enumerate(replies)]
    return {**_planned(ctx), "tasks": [task.model_dump(mode="json")], "prompts": [chat],
            "attempts": [attempts], "completions": [[list(r.token_ids) for r in replies]]}


def test_learn_trains_once_saves_and_updates_the_teacher(make_context: MakeContext, tiny_path: Path) -> None:
    model = load_chat_model(f"hf:{tiny_path}", precision="fp32")
    trainer = StudentTrainer(model.lm)
    ctx = make_context(model, trainer=trainer, objective="grpo", batch_size=1)
    state = _graded_state(ctx, model)
    update = learn_node(state, Runtime(context=ctx))
    assert update["step"] == 1 and trainer.steps == 1
    assert update["metrics"][0]["mean_reward"] == 0.5 and update["metrics"][0]["tokens"] > 0
    assert update["teacher_state"] != state["teacher_state"] and update["failed"] == []
    trained = {k: v.clone() for k, v in model.lm.model.state_dict().items()}
    again = learn_node(state, Runtime(context=ctx))  # LangGraph re-running the node after a kill
    assert again == update and trainer.steps == 1
    assert all(torch.equal(v, model.lm.model.state_dict()[k]) for k, v in trained.items())
    assert (trainer_folder(ctx.run_dir, 1) / "trainer.pt").is_file()


def test_learn_without_trainer_marks_failures(make_context: MakeContext) -> None:
    ctx = make_context(ScriptedChatModel(), batch_size=1)
    task = ArithmeticDomain().heldout("sub-1d")[0]
    wrong = [Attempt(task_id=task.id, text="#### -1", sample=j).model_dump(mode="json") for j in range(2)]
    state = {**_planned(ctx), "tasks": [task.model_dump(mode="json")], "prompts": [student_messages(task)],
             "attempts": [wrong], "completions": [[[], []]]}
    update = learn_node(state, Runtime(context=ctx))
    assert update["failed"] == [task.model_dump(mode="json")] and update["metrics"][0]["loss"] == 0.0
