"""Every family's answers are right and its difficulty constraints hold on many draws."""

from __future__ import annotations

import random

import pytest

from coachgraph.skills import prerequisite_dag
from coachgraph.tasks import PREREQUISITES, SKILLS
from coachgraph.tasks.problems import FAMILIES, Problem, family


def _draws(skill: str, n: int = 300) -> list[Problem]:
    rng = random.Random(7)
    fam = family(skill)
    return [Problem(fam, fam.draw(rng)) for _ in range(n)]


_ARITH = {"add": lambda v: v["a"] + v["b"], "sub": lambda v: v["a"] - v["b"],
          "mul": lambda v: v["a"] * v["b"]}


@pytest.mark.parametrize("skill", [s for s in SKILLS if s[:3] in _ARITH])
def test_binary_answers_match_python_arithmetic(skill: str) -> None:
    for p in _draws(skill):
        answer, steps = p.solution
        assert answer == _ARITH[skill[:3]](p.values)
        assert steps[-1].endswith(f"= {answer}")


def test_carry_and_borrow_constraints_hold() -> None:
    for p in _draws("add-2d"):
        a, b = p.values["a"], p.values["b"]
        assert a % 10 + b % 10 < 10 and a // 10 + b // 10 < 10
    for p in _draws("add-2d-carry"):
        assert p.values["a"] % 10 + p.values["b"] % 10 >= 10
    for p in _draws("sub-2d"):
        a, b = p.values["a"], p.values["b"]
        assert a > b and a % 10 >= b % 10
    for p in _draws("sub-2d-borrow"):
        a, b = p.values["a"], p.values["b"]
        assert a > b and a % 10 < b % 10


def test_column_steps_name_the_carry() -> None:
    _, steps = Problem(family("add-2d-carry"), {"a": 37, "b": 45}).solution
    # 7 + 5 = 12 -> write 2 carry 1; 3 + 4 + 1 = 8; 37 + 45 = 82
    assert steps == ["7 + 5 = 12, write 2 carry 1", "3 + 4 + 1 = 8", "37 + 45 = 82"]


def test_long_multiplication_partials() -> None:
    answer, steps = Problem(family("mul-2x2"), {"a": 37, "b": 45}).solution
    # 37 * 5 = 185, 37 * 40 = 1480, 185 + 1480 = 1665
    assert answer == 1665
    assert steps == ["37 * 5 = 185", "37 * 40 = 1480", "185 + 1480 = 1665"]


def test_order_of_operations_multiplies_first() -> None:
    answer, steps = Problem(family("order-ops"), {"a": 3, "b": 4, "c": 5}).solution
    assert (answer, steps) == (23, ["4 * 5 = 20", "3 + 20 = 23"])


def test_word_problem_steps_lead_to_answer_and_stay_whole() -> None:
    for p in _draws("word-2step"):
        answer, steps = p.solution
        assert answer >= 0 and len(steps) == 2
        assert steps[-1].endswith(f"= {answer}")
        assert str(p.values["a"]) in p.question


def test_skill_graph_covers_every_family_and_is_acyclic() -> None:
    graph = prerequisite_dag(PREREQUISITES)
    assert set(graph.nodes) == set(FAMILIES)
    assert list(graph.predecessors("add-2d-carry")) == ["add-2d"]
    import networkx as nx

    assert nx.is_directed_acyclic_graph(graph)


def test_unknown_skill_lists_known_ones() -> None:
    with pytest.raises(KeyError, match="add-1d"):
        family("division")
