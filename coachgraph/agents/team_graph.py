"""A team compiled into a LangGraph supervisor that hands the question to members through tools.

The supervisor answers with a ``transfer_to_<member>`` tool call; the handoff tool returns a
`Command` that moves control to the member's node, and the member hands back with a
``transfer_back_to_supervisor`` pair of messages. By default the supervisor follows the call
structure it is given (no model is called); with a chat model that calls tools, the model reads
the members' descriptions and the recommended order and decides. The known pitfalls of
supervisors are avoided: one handoff at a time (a model's extra tool calls are closed with a
message and not run, and models are bound with ``parallel_tool_calls=False`` where they take it),
every tool call is closed by a `ToolMessage`, `output_mode` chooses whether a member's whole
exchange or only its last message joins the shared history, and the member holding the turn is
kept in state (`active_agent`), so a checkpointed team resumes with the right member.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolCallId, StructuredTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer, Command

from coachgraph.agents.members import Member, new_messages, tool_input
from coachgraph.agents.prompts import render_prompt
from coachgraph.agents.team_critic import Turn, answer_line, stated_answer
from coachgraph.tasks import normalize_number

__all__ = ["SUPERVISOR", "OutputMode", "Router", "TeamState", "compile_team", "handoff_tool", "planned_router",
           "team_input", "team_turns"]

SUPERVISOR = "supervisor"
"""Name of the supervisor node."""
HANDBACK = "transfer_back_to_supervisor"

OutputMode = Literal["last_message", "full_history"]


class TeamState(TypedDict, total=False):
    """State of one team run."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The shared conversation: the question, handoffs and what members said."""
    active_agent: str
    """Who holds the turn (a member, or the supervisor between handoffs)."""
    plan: list[str]
    """The recommended call structure: members in the order they are called."""
    turns: Annotated[list[dict[str, Any]], operator.add]
    """What each member said, in order (`Turn` fields): what the critic judges."""


Router = Callable[[TeamState, RunnableConfig], AIMessage]
"""The supervisor's decision: an AI message whose first tool call is a handoff, or none to end."""


def team_input(question: str, plan: Sequence[str]) -> TeamState:
    """The input of a team run."""
    return {"messages": [HumanMessage(question)], "plan": list(plan), "active_agent": SUPERVISOR}


def team_turns(state: Mapping[str, Any]) -> list[Turn]:
    """The members' turns of a finished (or stopped) team run."""
    return [Turn(str(t["member"]), str(t["text"]), bool(t.get("error"))) for t in state.get("turns", [])]


def handoff_tool(member: Member) -> BaseTool:
    """``transfer_to_<member>``: a tool whose call moves control to the member's node."""
    name = f"transfer_to_{member.name}"

    def handoff(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
        done = ToolMessage(f"Handed over to {member.name}.", tool_call_id=tool_call_id, name=name)
        return Command(goto=member.name, update={"messages": [done], "active_agent": member.name})

    return StructuredTool.from_function(handoff, name=name, description=f"Hand the question to {member.name}: "
                                        f"{member.spec.description}")


def _final(state: TeamState) -> AIMessage:
    answers = [a for a in (stated_answer(t["text"]) for t in state.get("turns", []) if not t.get("error")) if a]
    text = answer_line(answers[-1]) if answers else "The team found no answer."
    return AIMessage(text, name=SUPERVISOR)


def planned_router(state: TeamState, config: RunnableConfig) -> AIMessage:
    """Follow the plan: hand off to the first planned member that has not spoken, then answer."""
    spoken = {t["member"] for t in state.get("turns", [])}
    upcoming = [m for m in state.get("plan", []) if m not in spoken]
    if not upcoming:
        return _final(state)
    call_id = f"call_{len(state.get('turns', []))}_{upcoming[0]}"
    return AIMessage("", name=SUPERVISOR, tool_calls=[{"name": f"transfer_to_{upcoming[0]}", "args": {},
                                                       "id": call_id, "type": "tool_call"}])


def model_router(model: BaseChatModel, members: Sequence[Member], handoffs: Sequence[BaseTool]) -> Router:
    """A chat model that calls tools as the supervisor, told the members and the recommended order."""
    try:
        bound = model.bind_tools(list(handoffs), parallel_tool_calls=False)
    except TypeError:  # a provider without the option: extra calls are closed unrun instead
        bound = model.bind_tools(list(handoffs))
    described = [(m.name, m.spec.description) for m in members]

    def route(state: TeamState, config: RunnableConfig) -> AIMessage:
        system = render_prompt("member", "supervisor", members=described, order=" -> ".join(state.get("plan", [])))
        reply = bound.invoke([SystemMessage(system), *state["messages"]], config)
        return AIMessage(reply.text, name=SUPERVISOR, tool_calls=reply.tool_calls, id=reply.id)

    return route


def _supervisor(router: Router, handoffs: dict[str, BaseTool], max_turns: int) -> Callable[..., Command]:
    def supervisor(state: TeamState, config: RunnableConfig) -> Command:
        if len(state.get("turns", [])) >= max_turns:
            return Command(goto=END, update={"messages": [_final(state)], "active_agent": SUPERVISOR})
        ai = router(state, config)
        calls = ai.tool_calls
        closing = [ToolMessage("Not run: one handoff at a time.", tool_call_id=c["id"], name=c["name"], status="error")
                   for c in calls[1:]]
        tool = handoffs.get(calls[0]["name"]) if calls else None
        if tool is None:
            unknown = [ToolMessage(f"No member {calls[0]['name']!r}.", tool_call_id=calls[0]["id"], status="error")] if calls else []
            end = [_final(state)] if calls else []
            return Command(goto=END, update={"messages": [ai, *unknown, *closing, *end], "active_agent": SUPERVISOR})
        moved = tool.invoke({**calls[0], "type": "tool_call"}, config)
        return Command(goto=moved.goto, update={"messages": [ai, *moved.update["messages"], *closing],
                                                "active_agent": moved.update["active_agent"]})

    return supervisor


def _last_said(messages: Sequence[BaseMessage]) -> str:
    """What a tool member is called with: the last thing a member said, else the question."""
    for message in reversed(messages):
        if isinstance(message, AIMessage) and message.name and message.name != SUPERVISOR and not message.tool_calls:
            return message.text
    return next((m.text for m in messages if isinstance(m, HumanMessage)), "")


def _tool_text(output: Any) -> str:
    """A tool's output as a member's words; a bare number is stated as an answer."""
    text = str(getattr(output, "content", output)).strip()
    number = normalize_number(text)
    return f"{text}\n{answer_line(number)}" if number is not None else text


def _run(member: Member, messages: list[BaseMessage], config: RunnableConfig) -> list[BaseMessage]:
    if member.kind == "tool":
        output = member.runnable.invoke(tool_input(member.runnable, _last_said(messages)), config)
        return [AIMessage(_tool_text(output), name=member.name)]
    result = member.runnable.invoke({"messages": messages}, config)
    said = [m for m in new_messages(messages, result.get("messages", [])) if isinstance(m, BaseMessage)]
    return [m.model_copy(update={"name": member.name}) if isinstance(m, AIMessage) and not m.name else m for m in said]


def _member_node(member: Member, output_mode: OutputMode) -> Callable[..., dict[str, Any]]:
    def node(state: TeamState, config: RunnableConfig) -> dict[str, Any]:
        try:
            said, error = _run(member, list(state["messages"]), config), False
        except Exception as exc:  # noqa: BLE001 - a member that fails is part of the team's outcome
            said, error = [AIMessage(f"{member.name} failed: {type(exc).__name__}: {exc}", name=member.name)], True
        spoken = [m for m in said if isinstance(m, AIMessage) and not m.tool_calls]
        text = spoken[-1].text if spoken else ""
        kept = said if output_mode == "full_history" else spoken[-1:]
        call_id = f"back_{len(state.get('turns', []))}_{member.name}"
        back = [AIMessage("", name=member.name, tool_calls=[{"name": HANDBACK, "args": {}, "id": call_id,
                                                             "type": "tool_call"}]),
                ToolMessage("Handed back to the supervisor.", tool_call_id=call_id, name=HANDBACK)]
        return {"messages": [*kept, *back], "active_agent": SUPERVISOR,
                "turns": [{"member": member.name, "text": text, "error": error}]}

    return node


def compile_team(members: Sequence[Member], *, model: BaseChatModel | None = None,
                 output_mode: OutputMode = "last_message", max_turns: int | None = None,
                 checkpointer: Checkpointer = None, name: str = "team") -> CompiledStateGraph:
    """The team as a compiled supervisor graph; invoke it with `team_input(question, plan)`.

    Args:
        members: the team (their names are its nodes).
        model: a tool-calling chat model as the supervisor; None follows the plan.
        output_mode: ``last_message`` adds only a member's last message to the shared history,
            ``full_history`` everything it said.
        max_turns: member turns after which the supervisor ends the run (default: two per member).
        checkpointer: makes team runs resumable (the thread id is one question); inside another
            graph's node, None runs the team as that graph's subgraph and False on its own.
        name: the graph's name (the root of its calling trees).
    """
    handoffs = {f"transfer_to_{m.name}": handoff_tool(m) for m in members}
    router = model_router(model, members, list(handoffs.values())) if model is not None else planned_router
    builder = StateGraph(TeamState)
    builder.add_node(SUPERVISOR, _supervisor(router, handoffs, max_turns or 2 * len(members)),
                     destinations=(*[m.name for m in members], END))
    for member in members:
        builder.add_node(member.name, _member_node(member, output_mode))
        builder.add_edge(member.name, SUPERVISOR)
    builder.add_edge(START, SUPERVISOR)
    return builder.compile(checkpointer=checkpointer, name=name)
