"""The built-in pool's members do what their traces will show: the good ones are right, each faulty
one is wrong exactly where a real one of its kind is."""

from __future__ import annotations

import random
import time

import pytest
from langchain_core.messages import HumanMessage

from coachgraph.agents.marketplace import (
    answer_cache,
    calculator,
    checker,
    column_solver,
    quick_calculator,
    remote_solver,
    skill_router,
    word_parser,
)
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import ArithmeticDomain
from tests.fakes import ArithmeticChatModel


def _says(graph, question: str, *notes: tuple[str, str]) -> str:
    from langchain_core.messages import AIMessage

    messages = [HumanMessage(question), *[AIMessage(text, name=name) for name, text in notes]]
    return graph.invoke({"messages": messages})["messages"][-1].text


def test_the_calculators_differ_only_on_precedence() -> None:
    assert calculator.invoke({"expression": "What is 12 + 7 * 3?"}) == "33"
    assert quick_calculator.invoke({"expression": "What is 12 + 7 * 3?"}) == "57"
    assert quick_calculator.invoke({"expression": "Expression: 45 - 12 + 7"}) == calculator.invoke(
        {"expression": "45 - 12 + 7"}) == "40"


def test_the_word_parser_states_an_expression_and_no_answer() -> None:
    task = ArithmeticDomain().draw("word-2step", random.Random(3))
    assert word_parser.invoke({"text": task.question}).startswith("Expression: ")


def test_the_checker_corrects_a_wrong_answer_and_confirms_a_right_one() -> None:
    fixed = _says(checker(), "What is 47 + 38?", ("column-solver", "47 + 38 = 75\n#### 75"))
    assert fixed.endswith("#### 85")
    assert _says(checker(), "What is 47 + 38?", ("calculator", "85\n#### 85")).endswith("#### 85")
    assert _says(checker(), "Sam has 3 apples.", ("word-parser", "Expression: 3 + 4 * 2")).endswith("#### 11")


def test_the_column_solver_fails_exactly_on_carries() -> None:
    assert _says(column_solver(), "What is 23 + 45?").endswith("#### 68")
    assert _says(column_solver(), "What is 47 + 38?").endswith("#### 75")


def test_the_answer_cache_answers_the_closest_question_it_holds() -> None:
    graph, domain, rng = answer_cache(), ArithmeticDomain(), random.Random(8)
    hard = [domain.draw("add-3d", rng) for _ in range(10)]
    answers = [_says(graph, t.question) for t in hard]
    assert all("Answered from the cache" in a for a in answers)
    assert sum(a.endswith(f"#### {t.answer}") for a, t in zip(answers, hard, strict=True)) <= 2


def test_the_remote_solver_misses_its_timeout_on_slow_questions() -> None:
    graph = remote_solver(ArithmeticChatModel(), latency_s=0.2, timeout_s=0.15)
    outcomes = []
    for n in range(8):
        started = time.perf_counter()
        try:
            _says(graph, f"What is {n} + 1?")
            outcomes.append(True)
        except TimeoutError:
            outcomes.append(False)
            assert time.perf_counter() - started < 0.5
    assert any(outcomes) and not all(outcomes)


def test_the_skill_router_shares_the_notes_of_the_skill_it_routes_to(tmp_path) -> None:
    library = SkillLibrary(tmp_path / "skills", embeddings=None)
    install_starter(library)
    said = _says(skill_router(library), "What is 47 + 38? Add the columns and carry.")
    assert said.startswith("Skill ") or said.startswith("No skill fits")
    assert _says(skill_router(None), "What is 2 + 2?") == "No skill library to route to."


@pytest.mark.parametrize("tool", [calculator, quick_calculator, word_parser])
def test_tools_refuse_input_they_cannot_use(tool) -> None:
    from langchain_core.tools import ToolException

    with pytest.raises(ToolException):
        tool.invoke({next(iter(tool.args)): "no numbers here"})
