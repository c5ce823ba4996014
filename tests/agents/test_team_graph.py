"""A team as a supervisor that hands off through tools: plans are followed, every tool call is
closed, one handoff runs at a time, failures become outcomes, and the critic blames the right member."""

from __future__ import annotations

import random

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from coachgraph.agents.members import build_team
from coachgraph.agents.pool import load_pool
from coachgraph.agents.team_critic import Turn, judge_team
from coachgraph.agents.team_graph import compile_team, team_input, team_turns
from coachgraph.tasks import ArithmeticDomain
from tests.fakes import ArithmeticChatModel, ToolCallingChatModel

POOL = load_pool()


def _team(names: list[str], **kwargs):
    return compile_team(build_team(POOL, names, models=lambda spec: ArithmeticChatModel()), **kwargs)


def _task(skill: str, seed: int = 0):
    return ArithmeticDomain().draw(skill, random.Random(seed))


def _closed(messages: list) -> bool:
    """Every tool call of an AI message is answered by a tool message with its id."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    return all(c["id"] in answered for m in messages if isinstance(m, AIMessage) for c in m.tool_calls)


def test_the_supervisor_follows_the_plan_through_handoff_tools() -> None:
    task = _task("word-2step")
    out = _team(["word-parser", "calculator", "checker"]).invoke(team_input(task.question, ["word-parser", "calculator", "checker"]))
    assert [t.member for t in team_turns(out)] == ["word-parser", "calculator", "checker"]
    handoffs = [c["name"] for m in out["messages"] if isinstance(m, AIMessage) for c in m.tool_calls]
    assert handoffs[:2] == ["transfer_to_word-parser", "transfer_back_to_supervisor"]
    assert _closed(out["messages"]) and out["active_agent"] == "supervisor"
    assert judge_team(task, team_turns(out)).correct


def test_output_mode_keeps_a_members_whole_exchange_or_its_last_message() -> None:
    task = _task("add-2d-carry")
    short = _team(["solver-calc", "calculator"]).invoke(team_input(task.question, ["solver-calc", "calculator"]))
    full = _team(["solver-calc", "calculator"], output_mode="full_history").invoke(
        team_input(task.question, ["solver-calc", "calculator"]))
    assert len(full["messages"]) >= len(short["messages"]) and _closed(full["messages"])


def test_a_failing_member_is_an_outcome_not_a_crash() -> None:
    task = _task("word-2step")
    out = _team(["calculator"]).invoke(team_input(task.question, ["calculator"]))
    turns = team_turns(out)
    assert turns[0].error and "no arithmetic expression" in turns[0].text
    verdict = judge_team(task, turns)
    assert not verdict.correct and verdict.mistake_member == "calculator" and verdict.answer is None


def test_a_model_supervisor_runs_one_handoff_at_a_time_and_closes_the_others() -> None:
    supervisor = ToolCallingChatModel(answers=["#### 5"], tool_turns=[
        [{"name": "transfer_to_calculator", "args": {}, "id": "a"}, {"name": "transfer_to_checker", "args": {}, "id": "b"}],
        []])
    out = _team(["calculator", "checker"], model=supervisor).invoke(team_input("What is 2 + 3?", ["calculator", "checker"]))
    assert [t.member for t in team_turns(out)] == ["calculator"]
    refused = [m for m in out["messages"] if isinstance(m, ToolMessage) and m.tool_call_id == "b"]
    assert refused and refused[0].status == "error" and _closed(out["messages"])
    assert supervisor.bound == [["transfer_to_calculator", "transfer_to_checker"]]
    assert isinstance(supervisor.calls[0][-1], HumanMessage)


def test_the_member_holding_the_turn_is_checkpointed() -> None:
    saver = InMemorySaver()
    team = _team(["word-parser", "calculator"], checkpointer=saver)
    config = {"configurable": {"thread_id": "q1"}}
    team.invoke(team_input("What is 40 + 2?", ["word-parser", "calculator"]), config, interrupt_after=["word-parser"])
    assert team.get_state(config).values["active_agent"] == "supervisor"
    assert team.get_state(config).next == ("supervisor",)
    out = team.invoke(None, config)
    assert [t.member for t in team_turns(out)] == ["word-parser", "calculator"]


@pytest.mark.parametrize(("turns", "correct", "blamed"), [
    ([Turn("solver", "47 + 38 = 75\n#### 75"), Turn("calculator", "85\n#### 85")], True, None),
    ([Turn("calculator", "85\n#### 85"), Turn("solver", "#### 75")], False, "solver"),
    ([Turn("word-parser", "Expression: 47 + 39"), Turn("calculator", "86\n#### 86")], False, "word-parser"),
    ([Turn("solver-pro", "timed out", error=True), Turn("skill-router", "notes")], False, "solver-pro"),
    ([Turn("skill-router", "notes"), Turn("checker", "Nothing to check.")], False, "checker"),
])
def test_the_critic_blames_the_first_member_whose_claim_is_wrong(turns: list[Turn], correct: bool, blamed: str | None) -> None:
    task = ArithmeticDomain().heldout("add-2d-carry")[0].model_copy(update={"answer": "85"})
    verdict = judge_team(task, turns)
    assert (verdict.correct, verdict.mistake_member) == (correct, blamed)


def test_a_model_without_tool_calls_has_its_teams_tools_work_out_its_expression() -> None:
    task = _task("add-2d-carry", seed=4)
    out = _team(["word-parser", "quick-calculator", "solver-calc"]).invoke(
        team_input(task.question, ["word-parser", "quick-calculator", "solver-calc"]))
    turns = team_turns(out)
    assert turns[-1].member == "solver-calc" and turns[-1].text.endswith(f"#### {task.answer}")
