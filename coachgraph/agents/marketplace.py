"""The members of the built-in pool that are not plain chat models: tools, the checker, the skill
router, and the faulty members a real marketplace has.

Tools are LangChain tools; agents are functions that build a small LangGraph graph over
``messages`` (the pool file names them with ``graph:``). The faulty ones fail the way real ones
do: a calculator that ignores operator precedence, a remote agent that often misses its client's
timeout, an answer cache that returns the answer of the closest question it holds (a nearby
question, not the asked one), and a column-arithmetic agent that never carries or borrows. Their
descriptions read like their authors' listings; nothing else marks them.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool, ToolException
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from coachgraph.agents.calculators import (
    column_arithmetic,
    evaluate,
    evaluate_left_to_right,
    find_expression,
    format_number,
    parse_word_problem,
)
from coachgraph.agents.members import conversation, with_answer_line
from coachgraph.agents.prompts import render_prompt
from coachgraph.agents.team_critic import answer_line, check_equations, stated_answer
from coachgraph.skills import SkillLibrary, SkillRouter
from coachgraph.tasks import ArithmeticDomain

__all__ = ["answer_cache", "calculator", "checker", "column_solver", "quick_calculator", "remote_solver",
           "skill_router", "word_parser"]

Respond = Callable[[str, list[tuple[str, str]]], str]
"""What a deterministic agent says, from the question and what the team said so far."""


def _computed(expression: str, compute: Callable[[str], Any]) -> str:
    found = find_expression(expression) or expression
    try:
        return format_number(compute(found))
    except ValueError as err:
        raise ToolException(f"cannot compute {expression[:80]!r}: {err}") from err


def _exact(expression: str) -> str:
    """Evaluate an arithmetic expression exactly (+ - * / and parentheses, with precedence)."""
    if find_expression(expression) is None:
        raise ToolException(f"no arithmetic expression in {expression[:80]!r}")
    return _computed(expression, evaluate)


def _left_to_right(expression: str) -> str:
    """Evaluate an arithmetic expression quickly."""
    if find_expression(expression) is None:
        raise ToolException(f"no arithmetic expression in {expression[:80]!r}")
    return _computed(expression, evaluate_left_to_right)


def _parse(text: str) -> str:
    """Turn a word problem into an arithmetic expression."""
    expression = parse_word_problem(text)
    if expression is None:
        raise ToolException(f"no quantities to combine in {text[:80]!r}")
    return f"Expression: {expression}"


calculator = StructuredTool.from_function(
    _exact, name="calculator",
    description="Exact calculator: evaluates an arithmetic expression with + - * / and parentheses.")
"""The exact calculator."""

quick_calculator = StructuredTool.from_function(
    _left_to_right, name="quick-calculator",
    description="Quick calculator: evaluates arithmetic expressions in one pass, at a fraction of the price.")
"""A calculator that reads left to right and ignores operator precedence (wrong on ``a + b * c``)."""

word_parser = StructuredTool.from_function(
    _parse, name="word-parser",
    description="Word-problem parser: turns a story problem into the arithmetic expression that answers it.")
"""A rule-based parser of story problems into expressions."""


def _message_agent(name: str, respond: Respond) -> CompiledStateGraph:
    """A one-node graph that answers the conversation with `respond`."""

    def node(state: MessagesState) -> dict[str, list[BaseMessage]]:
        question, notes = conversation(state["messages"])
        return {"messages": [AIMessage(respond(question, notes))]}

    builder = StateGraph(MessagesState)
    builder.add_node(name, node)
    builder.add_edge(START, name)
    return builder.compile(name=name)


def _value(expression: str) -> str | None:
    try:
        return format_number(evaluate(expression))
    except ValueError:
        return None


def _check(question: str, notes: list[tuple[str, str]]) -> str:
    """Verify the team's latest answer against the expression on the table and its own equations."""
    answers = [(who, text, stated_answer(text)) for who, text in notes if stated_answer(text) is not None]
    sources = [text for _, text in reversed(notes) if stated_answer(text) is None] + [question]
    expression = next((e for e in (find_expression(s) for s in sources) if e is not None), None)
    exact = _value(expression) if expression is not None else None
    if not answers:
        return f"Nothing was answered; {expression} = {exact}\n{answer_line(exact)}" if exact else "Nothing to check."
    who, text, stated = answers[-1]
    answer = str(stated)
    wrong = check_equations(text)
    if exact is not None and exact != answer:
        return f"{who} said {answer}, but {expression} = {exact}.\n{answer_line(exact)}"
    if wrong:
        left, said, right = wrong[-1]
        fixed = right if said == answer else answer
        return f"{who} wrote {left} = {said}; it is {right}.\n{answer_line(fixed)}"
    return f"Checked {who}'s answer.\n{answer_line(answer)}"


def checker() -> CompiledStateGraph:
    """The team's critic: checks the latest answer against the problem's expression and recomputes
    every equation it states, correcting what is wrong."""
    return _message_agent("checker", _check)


_BINARY = re.compile(r"^\s*(\d+)\s*([-+*])\s*(\d+)\s*$")


def _columns(question: str, notes: list[tuple[str, str]]) -> str:
    found = _BINARY.match(find_expression(question) or "")
    if found is None:
        return "I work questions of the form 'What is A + B?' (or - and *) only."
    a, op, b = int(found.group(1)), found.group(2), int(found.group(3))
    result = column_arithmetic(a, op, b)
    return f"{a} {op} {b} = {result}\n{answer_line(str(result))}"


def column_solver() -> CompiledStateGraph:
    """An agent that works sums column by column and never carries or borrows."""
    return _message_agent("column-solver", _columns)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+|\d+|[-+*/]", text.lower()))


@functools.cache
def _cached_answers(size: int, seed: int) -> tuple[tuple[frozenset[str], str, str], ...]:
    """(tokens, question, answer) of `size` solved questions drawn over every skill."""
    domain, rng = ArithmeticDomain(), random.Random(seed)
    tasks = [domain.draw(domain.skills[i % len(domain.skills)], rng) for i in range(size)]
    return tuple((frozenset(_tokens(t.question)), t.question, t.answer) for t in tasks)


def answer_cache(size: int = 1500, seed: int = 11) -> CompiledStateGraph:
    """An agent that returns the stored answer of the most similar question it holds."""
    entries = _cached_answers(size, seed)

    def respond(question: str, notes: list[tuple[str, str]]) -> str:
        asked = _tokens(question)
        best = max(entries, key=lambda e: len(asked & e[0]) / len(asked | e[0]))
        return f"Answered from the cache: {best[1]}\n{answer_line(best[2])}"

    return _message_agent("answer-cache", respond)


def _latency(question: str, latency_s: float) -> float:
    """The remote agent's queueing delay for a question: between half and one and a half `latency_s`."""
    digest = int.from_bytes(hashlib.sha256(question.encode("utf-8")).digest()[:4], "little")
    return latency_s * (0.5 + digest / 2**32)


def remote_solver(model: BaseChatModel, latency_s: float = 3.0, timeout_s: float = 2.0,
                  max_tokens: int = 64) -> CompiledStateGraph:
    """A solver behind a remote queue: it answers like the embedded solver when the queue is short,
    and its client gives up with a `TimeoutError` after `timeout_s` seconds otherwise."""
    limited = model.bind(max_tokens=max_tokens)

    def node(state: MessagesState, config: RunnableConfig) -> dict[str, list[BaseMessage]]:
        question, notes = conversation(state["messages"])
        delay = _latency(question, latency_s)
        time.sleep(min(delay, timeout_s))
        if delay > timeout_s:
            raise TimeoutError(f"the remote solver did not answer within {timeout_s:.1f} s")
        chat = [("system", render_prompt("member", "system")),
                ("human", render_prompt("member", "user", question=question, notes=notes, skills=""))]
        return {"messages": [AIMessage(with_answer_line(limited.invoke(chat, config).text.strip()))]}

    builder = StateGraph(MessagesState)
    builder.add_node("remote-solver", node)
    builder.add_edge(START, "remote-solver")
    return builder.compile(name="remote-solver")


def _routed(library: SkillLibrary | None) -> Respond:
    router = SkillRouter(library) if library is not None else None

    def respond(question: str, notes: Sequence[tuple[str, str]]) -> str:
        if router is None or not len(router.library):
            return "No skill library to route to."
        route = router.route(question)
        if route.skill is None:
            return f"No skill fits this question (best confidence {route.confidence:.2f})."
        return f"Skill {route.skill} (confidence {route.confidence:.2f}):\n{router.library.render(route.skill)}"

    return respond


def skill_router(library: SkillLibrary | None = None) -> CompiledStateGraph:
    """Routes the question to the library skill that fits it and shares that skill's notes."""
    return _message_agent("skill-router", _routed(library))
