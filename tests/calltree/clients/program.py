"""A LangGraph multi-agent program with scripted models, and what each of its runs did.

A supervisor hands off to a research agent and to a math team through `transfer_to_*` tools
that return `Command(goto=..., graph=Command.PARENT)`, the handoff LangGraph documents; agents
are LangChain `create_agent` graphs. The math team is a subgraph holding a `calculator` agent (a
nested subgraph). The research agent's `fetch_page` tool raises and a `wrap_tool_call` middleware
turns the error into a message (a handled tool error); the calculator's `divide` raises
`ZeroDivisionError`, which nothing handles, so that run fails. Runs go to a checkpointer under
thread ids, so two of them share a session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from langchain.agents import create_agent
from langchain.agents.middleware import wrap_tool_call
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Command

from tests.fakes import ScriptedToolChatModel

__all__ = ["AGENTS", "RUNS", "Expected", "build_program", "run_program"]


@dataclass(frozen=True)
class Expected:
    """What one run of the program did: the trees a reader must give back are checked on this."""

    task: str
    thread: str
    success: bool
    llm_agents: list[str]
    """The agent behind each model call, in call order."""
    tools: list[tuple[str, str, bool]]
    """Each tool call as (agent, tool, failed), in call order (handoff tools excluded)."""
    handoffs: list[tuple[str, str]]
    """Each handoff as (from agent, to agent), in order."""
    usage: dict[str, int] = field(default_factory=dict)
    """Token counts summed over the run's model calls, under our names."""


def _call(name: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def _say(text: str) -> AIMessage:
    return AIMessage(content=text)


SCRIPTS: dict[str, list[AIMessage]] = {
    "supervisor": [
        _call("transfer_to_research_agent", "s1"), _call("transfer_to_math_team", "s2"),
        _say("Water boils at 100 C at sea level; doubled, that is 200."),
        _call("transfer_to_research_agent", "s3"),
        _say("The page could not be fetched; 100 C stands."),
        _call("transfer_to_math_team", "s4"),
    ],
    "research_agent": [
        _call("search", "r1", query="boiling point of water at sea level"),
        _say("Water boils at 100 C at sea level."),
        _call("fetch_page", "r2", url="https://example.org/water"),
        _say("The page could not be fetched."),
    ],
    "calculator": [
        _call("multiply", "c1", a=100, b=2), _say("100 times 2 is 200."),
        _call("divide", "c2", a=10, b=0),
    ],
}
"""Each agent's replies, consumed in run order."""

AGENTS = ("supervisor", "research_agent", "calculator")


@tool
def search(query: str) -> str:
    """Search reference facts."""
    return "Water boils at 100 degrees Celsius at sea level."


@tool
def fetch_page(url: str) -> str:
    """Fetch a web page."""
    raise ConnectionError(f"cannot reach {url}")


@tool
def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


@tool
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


def _handoff(target: str) -> Any:
    name = f"transfer_to_{target}"

    @tool(name, description=f"Hand the conversation to {target}.")
    def handoff(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
        message = ToolMessage(content=f"Transferred to {target}", name=name,
                              tool_call_id=tool_call_id)
        return Command(goto=target, graph=Command.PARENT, update={"messages": [message]})

    return handoff


@wrap_tool_call
def _report_connection_errors(request: Any, handler: Callable[[Any], Any]) -> Any:
    """A failed fetch becomes an error message the model reads, as LangChain documents."""
    try:
        return handler(request)
    except ConnectionError as exc:
        return ToolMessage(content=f"Tool error: {exc}", tool_call_id=request.tool_call["id"],
                           status="error")


def build_program() -> tuple[Any, dict[str, ScriptedToolChatModel]]:
    """The compiled supervisor program (with a checkpointer) and each agent's model."""
    models = {name: ScriptedToolChatModel(replies=SCRIPTS[name], model_name=f"scripted-{name}")
              for name in AGENTS}
    supervisor = create_agent(models["supervisor"], name="supervisor",
                              tools=[_handoff("research_agent"), _handoff("math_team")])
    research = create_agent(models["research_agent"], tools=[search, fetch_page],
                            middleware=[_report_connection_errors], name="research_agent")
    calculator = create_agent(models["calculator"], tools=[multiply, divide], name="calculator")
    math_team = (StateGraph(MessagesState).add_node("calculator", calculator)
                 .add_edge(START, "calculator").compile(name="math_team"))
    program = (
        StateGraph(MessagesState)
        .add_node("supervisor", supervisor, destinations=("research_agent", "math_team", END))
        .add_node("research_agent", research)
        .add_node("math_team", math_team)
        .add_edge(START, "supervisor")
        .add_edge("research_agent", "supervisor")
        .add_edge("math_team", "supervisor")
        .compile(checkpointer=InMemorySaver(), name="coordinator")
    )
    return program, models


RUNS: tuple[Expected, ...] = (
    Expected(
        task="What is the boiling point of water at sea level, doubled?", thread="thread-alice",
        success=True,
        llm_agents=["supervisor", "research_agent", "research_agent", "supervisor", "calculator",
                    "calculator", "supervisor"],
        tools=[("research_agent", "search", False), ("calculator", "multiply", False)],
        handoffs=[("supervisor", "research_agent"), ("supervisor", "math_team")]),
    Expected(
        task="Check it against the reference page.", thread="thread-alice", success=True,
        llm_agents=["supervisor", "research_agent", "research_agent", "supervisor"],
        tools=[("research_agent", "fetch_page", True)],
        handoffs=[("supervisor", "research_agent")]),
    Expected(
        task="Divide 10 by 0.", thread="thread-bob", success=False,
        llm_agents=["supervisor", "calculator"],
        tools=[("calculator", "divide", True)],
        handoffs=[("supervisor", "math_team")]),
)
"""The program's runs, in order, with what each did."""


def run_program() -> list[Expected]:
    """Run every run of `RUNS` on one program; returns them with their token usage filled in.

    Each agent's model must have been called as often as the run's `llm_agents` says.
    """
    program, models = build_program()
    done: list[Expected] = []
    for run in RUNS:
        seen = {name: len(model.calls) for name, model in models.items()}
        config = {"configurable": {"thread_id": run.thread}}
        try:
            program.invoke({"messages": [{"role": "user", "content": run.task}]}, config)
        except ZeroDivisionError:
            assert not run.success
        calls = {name: model.calls[seen[name]:] for name, model in models.items()}
        assert {n: len(c) for n, c in calls.items()} == {n: run.llm_agents.count(n) for n in AGENTS}
        prompts = sum(len(messages) for made in calls.values() for messages in made)
        answers = len(run.llm_agents)
        usage = {"input_tokens": 10 * prompts, "output_tokens": 5 * answers,
                 "total_tokens": 10 * prompts + 5 * answers}
        done.append(Expected(**{**run.__dict__, "usage": usage}))
    return done
