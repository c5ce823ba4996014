"""Pool members made runnable for a team: LangChain tools as they are, LangGraph graphs (or what a
graph-building function returns), and chat models made into agents.

A team's conversation is a list of messages: the question as the first human message, then what
each member said (AI messages carrying the member's name), with the supervisor's handoffs in
between. An agent member reads the conversation and answers with new messages; a tool member is
called with the last thing said (the question when nobody spoke yet). A member that answers
states its answer on a ``#### <number>`` line.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.tools import BaseTool, ToolException
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel
from pydantic import BaseModel

from coachgraph.agents.calculators import find_expression
from coachgraph.agents.context import shared_chat_model
from coachgraph.agents.pool import MemberSpec, PoolFile, resolve_import
from coachgraph.agents.prompts import render_prompt
from coachgraph.agents.team_critic import answer_line, stated_answer
from coachgraph.errors import ConfigError, ModelSpecError
from coachgraph.models import parse_spec
from coachgraph.skills import SkillLibrary
from coachgraph.tasks.answers import extract_number, normalize_number

__all__ = ["Member", "build_member", "build_team", "check_members", "conversation", "new_messages", "tool_input", "with_answer_line"]

logger = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
"""Tool-calling rounds a model agent with native tool calls may take before it must answer."""


@dataclass(frozen=True, slots=True)
class Member:
    """A pool member ready to run: its declaration and what a team calls."""

    spec: MemberSpec
    runnable: Any
    """A `BaseTool` for a tool member; a runnable from ``{"messages": [...]}`` to
    ``{"messages": [...]}`` for an agent."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> Literal["agent", "tool"]:
        return self.spec.kind


def conversation(messages: Sequence[BaseMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The question and what each member said, in order (handoff messages left out).

    >>> conversation([HumanMessage("What is 2 + 3?"), AIMessage("#### 5", name="calculator")])
    ('What is 2 + 3?', [('calculator', '#### 5')])
    """
    question = next((str(m.text) for m in messages if isinstance(m, HumanMessage)), "")
    notes = [(str(m.name), str(m.text)) for m in messages
             if isinstance(m, AIMessage) and m.name and not m.tool_calls and m.text.strip()]
    return question, notes


def new_messages(before: Sequence[BaseMessage], after: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The messages of `after` that `before` does not hold (by id, else by position)."""
    ids = {m.id for m in before if m.id}
    if ids:
        return [m for m in after if m.id not in ids]
    return list(after[len(before):])


def with_answer_line(text: str) -> str:
    """`text` ending in an answer line: its own, else one for the last number it states.

    >>> with_answer_line("47 + 38 = 85."), with_answer_line("#### 4"), with_answer_line("no idea")
    ('47 + 38 = 85.\\n#### 85', '#### 4', 'no idea')
    """
    if stated_answer(text) is not None:
        return text
    number = extract_number(text)
    return f"{text.rstrip()}\n{answer_line(number)}" if number is not None else text


def tool_input(tool: BaseTool, text: str) -> dict[str, Any]:
    """Arguments for `tool` from one text: its first string argument gets the text.

    Raises:
        ConfigError: the tool takes no string argument, or more than one required argument.
    """
    raw = tool.tool_call_schema
    schema: dict[str, Any] = raw if isinstance(raw, dict) else cast("type[BaseModel]", raw).model_json_schema()
    properties = schema.get("properties", {})
    required = schema.get("required", list(properties))
    strings = [name for name, prop in properties.items() if prop.get("type") == "string"]
    if not strings or len(required) > 1:
        raise ConfigError(f"tool {tool.name!r} needs one string argument to be called with what the team said; "
                          "give it to a model agent that calls tools instead")
    return {strings[0]: text}


def _skills_text(library: SkillLibrary | None, question: str, k: int) -> str:
    if library is None or k <= 0:
        return ""
    return "\n".join(library.render(hit.id) for hit in library.search(question, k))


def _prompt(spec: MemberSpec, question: str, notes: list[tuple[str, str]], skills: str) -> list[BaseMessage]:
    system = spec.instructions or render_prompt("member", "system")
    return [SystemMessage(system), HumanMessage(render_prompt("member", "user", question=question, notes=notes,
                                                               skills=skills))]


def _native_tools(model: BaseChatModel, tools: Sequence[BaseTool]) -> Runnable[Any, Any] | None:
    """`model` with `tools` bound, or None when the model cannot call tools natively."""
    try:
        return model.bind_tools(list(tools))
    except NotImplementedError:
        return None


def _tool_loop(bound: Runnable[Any, Any], tools: Sequence[BaseTool], chat: list[BaseMessage],
               config: RunnableConfig) -> str:
    """Native tool calling: the model calls tools until it answers (at most `MAX_TOOL_ROUNDS`)."""
    by_name = {t.name: t for t in tools}
    reply = bound.invoke(chat, config)
    for _ in range(MAX_TOOL_ROUNDS):
        if not reply.tool_calls:
            break
        chat = [*chat, reply]
        for call in reply.tool_calls:
            tool = by_name.get(call["name"])
            chat.append(tool.invoke({**call, "type": "tool_call"}, config) if tool else
                        ToolMessage(f"no tool {call['name']!r}", tool_call_id=call["id"], status="error"))
        reply = bound.invoke(chat, config)
    return reply.text


def _expression_then_tools(model: Runnable[Any, Any], tools: Sequence[BaseTool], question: str,
                           fallback: list[BaseMessage], config: RunnableConfig) -> str:
    """For models without native tool calls: the model writes the calculation, and the tools,
    tried in order, work it out (program-aided answering); the first tool that returns a number
    answers. Without an expression, or when no tool returns a number, the model answers by itself."""
    written = model.invoke([HumanMessage(render_prompt("member", "expression", question=question))], config).text
    expression = find_expression(written)
    for tool in tools if expression is not None else ():
        try:
            result = str(tool.invoke(tool_input(tool, str(expression)), config)).strip()
        except ToolException:
            continue
        number = normalize_number(result)
        if number is not None:
            return f"{expression} = {number}\n{answer_line(number)}"
    return str(model.invoke(fallback, config).text)


def chat_agent(spec: MemberSpec, model: BaseChatModel, *, library: SkillLibrary | None = None,
               tools: Sequence[BaseTool] = ()) -> Runnable[Any, Any]:
    """A chat model as a team agent: the question, what the team said and retrieved skills in its
    prompt; with tools, native tool calls where the model has them, else program-aided answering
    (see `_expression_then_tools`)."""
    limited = model.bind(max_tokens=spec.max_tokens)
    bound = _native_tools(model, tools) if tools else None

    def run(state: Mapping[str, Any], config: RunnableConfig) -> dict[str, Any]:
        question, notes = conversation(state["messages"])
        chat = _prompt(spec, question, notes, _skills_text(library, question, spec.skills))
        if bound is not None:
            text = _tool_loop(bound, tools, chat, config)
        elif tools:
            text = _expression_then_tools(limited, tools, question, chat, config)
        else:
            text = limited.invoke(chat, config).text
        return {"messages": [AIMessage(with_answer_line(text.strip()), name=spec.name)]}

    return RunnableLambda(run, name=f"{spec.name}-agent")


def _graph(spec: MemberSpec, model: BaseChatModel | None, library: SkillLibrary | None) -> Any:
    target = resolve_import(str(spec.graph))
    if not isinstance(target, Pregel | StateGraph) and callable(target):
        accepted = inspect.signature(target).parameters
        kwargs: dict[str, Any] = dict(spec.options)
        if model is not None:
            kwargs["model"] = model
        if "library" in accepted:
            kwargs["library"] = library
        target = target(**kwargs)
    if isinstance(target, StateGraph):
        target = target.compile(name=spec.name)
    if not isinstance(target, Pregel):
        raise ConfigError(f"member {spec.name!r}: {spec.graph} is not a LangGraph graph or a function returning one")
    return target


def build_member(spec: MemberSpec, *, team_tools: Sequence[BaseTool] = (), library: SkillLibrary | None = None,
                 models: Callable[[str], BaseChatModel] = shared_chat_model,
                 pool_tools: Mapping[str, BaseTool] | None = None) -> Member:
    """Make one member runnable. A model agent's ``tools`` are the named pool tools, or
    `team_tools` for ``team``.

    Raises:
        ConfigError: an import path names something of the wrong type.
    """
    if spec.tool is not None:
        tool = resolve_import(spec.tool)
        if not isinstance(tool, BaseTool):
            raise ConfigError(f"member {spec.name!r}: {spec.tool} is not a LangChain BaseTool")
        return Member(spec, tool)
    model = models(spec.model) if spec.model is not None else None
    if spec.graph is not None:
        return Member(spec, _graph(spec, model, library))
    named = [t for name in spec.tools if name != "team" for t in [(pool_tools or {})[name]]]
    tools = [*named, *(team_tools if "team" in spec.tools else [])]
    return Member(spec, chat_agent(spec, model, library=library, tools=tools))  # type: ignore[arg-type]


def build_team(pool: PoolFile, names: Sequence[str], *, library: SkillLibrary | None = None,
               models: Callable[[str], BaseChatModel] = shared_chat_model) -> list[Member]:
    """The members `names` of `pool`, in that order, ready to run together."""
    specs = [pool.member(name) for name in names]
    tools = [build_member(s).runnable for s in specs if s.kind == "tool"]
    needed = {t for s in specs for t in s.tools if t != "team"}
    pool_tools = {name: build_member(pool.member(name)).runnable for name in needed}
    return [build_member(s, team_tools=tools, library=library, models=models, pool_tools=pool_tools) for s in specs]


def _check_graph(spec: MemberSpec) -> None:
    target = resolve_import(str(spec.graph))
    if isinstance(target, Pregel | StateGraph):
        if spec.options:
            raise ConfigError(f"{spec.graph} is a graph, not a function that takes options")
        return
    if not callable(target):
        raise ConfigError(f"{spec.graph} is not a LangGraph graph or a function returning one")
    accepted = inspect.signature(target).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    given = [*spec.options, *(["model"] if spec.model is not None else [])]
    unknown = [name for name in given if name not in accepted and not takes_any]
    if unknown:
        raise ConfigError(f"{spec.graph} takes no argument {unknown[0]!r}")


def _check_member(spec: MemberSpec) -> None:
    if spec.model is not None:
        parse_spec(spec.model)
    if spec.tool is not None and not isinstance(resolve_import(spec.tool), BaseTool):
        raise ConfigError(f"{spec.tool} is not a LangChain BaseTool")
    if spec.graph is not None:
        _check_graph(spec)


def check_members(pool: PoolFile) -> None:
    """Check that every member can be built, without building one: each import path resolves to
    a tool, a graph or a function taking the member's options, and each model spec is known.

    Raises:
        ConfigError: naming the first member that cannot be built, and why.
    """
    for spec in pool.members:
        try:
            _check_member(spec)
        except (ConfigError, ModelSpecError) as err:
            raise ConfigError(f"member {spec.name!r}: {err}") from None
