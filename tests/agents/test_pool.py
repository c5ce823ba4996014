"""Pool files: the built-in pool loads, bad files are refused in one line naming file, line and field,
and an import path is resolved only when its member is built."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from coachgraph.agents.members import build_member, build_team, check_members
from coachgraph.agents.pool import BUILTIN_POOL, load_pool, pool_entries
from coachgraph.errors import ConfigError, InputError

GOOD = """schema_version: 1
name: tiny
description: A tiny pool.
members:
  - name: calculator
    tool: coachgraph.agents.marketplace:calculator
    description: Exact calculator.
    cost: 0.3
  - name: solver
    model: scripted
    tools: [calculator]
    description: A solver.
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pool.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_builtin_pool_is_made_of_real_parts_and_flags_nothing() -> None:
    pool = load_pool()
    assert pool.name == "arithmetic" and len(pool.members) == 11
    kinds = {m.name: m.kind for m in pool.members}
    assert kinds["calculator"] == kinds["word-parser"] == kinds["quick-calculator"] == "tool"
    entries = pool_entries(pool)
    assert all(set(e.model_dump()) == {"name", "kind", "description", "inputs"} for e in entries)
    assert not any(word in BUILTIN_POOL.read_text().lower() for word in ("faulty", "bad", "broken", "wrong"))


@pytest.mark.parametrize(("text", "where", "message"), [
    (GOOD.replace("cost: 0.3", "cost: -1"), ":8", "members[0].cost: Input should be greater than or equal to 0"),
    (GOOD.replace("schema_version: 1", "schema_version: 2"), ":1", "schema_version: Value error, version 2"),
    (GOOD.replace("    cost: 0.3\n", "    cost: 0.3\n    model: scripted\n"), ":5", "members[0]: Value error, a tool member"),
    (GOOD.replace("tools: [calculator]", "tools: [abacus]"), ":1", "calls 'abacus', which is no tool member"),
    (GOOD.replace("name: solver", "name: calculator"), ":1", "member name 'calculator' is used twice"),
    (GOOD.replace("coachgraph.agents.marketplace:calculator", "os.system('rm')"), ":6", "is not an import path"),
    (GOOD.replace("    cost: 0.3\n", "    cost: 0.3\n    colour: red\n"), ":9", "members[0].colour: Extra inputs"),
    (GOOD + "  - &a {name: x}\n  - *a\n", ":", "anchors and aliases are not allowed"),
    ("members: [\n", ":", "not valid YAML"),
])
def test_a_bad_pool_is_refused_naming_file_line_and_field(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_pool(path)
    first = str(caught.value).splitlines()
    assert len(first) == 1 and first[0].startswith(f"{path}{where}") and message in first[0]


def test_loading_a_pool_imports_nothing_and_building_imports_only_declared_paths(tmp_path: Path) -> None:
    module = tmp_path / "pool_side_effect.py"
    module.write_text("from pathlib import Path\nPath(__file__).with_suffix('.imported').touch()\n"
                      "from coachgraph.agents.marketplace import calculator as tool\n", encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        pool = load_pool(_write(tmp_path, GOOD.replace("coachgraph.agents.marketplace:calculator",
                                                       "pool_side_effect:tool")))
        assert not module.with_suffix(".imported").exists()
        member = build_member(pool.member("calculator"))
        assert module.with_suffix(".imported").exists() and member.runnable.name == "calculator"
    finally:
        sys.path.remove(str(tmp_path))


def test_an_import_path_of_the_wrong_type_is_refused_naming_the_member(tmp_path: Path) -> None:
    pool = load_pool(_write(tmp_path, GOOD.replace("marketplace:calculator", "calculators:evaluate")))
    with pytest.raises(ConfigError, match="member 'calculator': coachgraph.agents.calculators:evaluate is not a LangChain BaseTool"):
        build_member(pool.member("calculator"))


def test_a_model_agent_gets_the_tools_it_names(tmp_path: Path, scripted_chat) -> None:
    pool = load_pool(_write(tmp_path, GOOD))
    team = build_team(pool, ["solver"], models=lambda spec: scripted_chat(answers=["2 + 3\n"]))
    assert [m.name for m in team] == ["solver"] and team[0].kind == "agent"


def test_checking_a_pool_builds_nothing_and_passes_the_builtin_pool() -> None:
    check_members(load_pool())


GRAPH = """schema_version: 1
name: tiny
members:
  - name: remote
    graph: coachgraph.agents.marketplace:remote_solver
    model: smollm2
    options: {latency: 1.0}
    description: A remote solver.
"""


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("marketplace:calculator", "marketplace:nosuch"),
     "member 'calculator': coachgraph.agents.marketplace:nosuch: coachgraph.agents.marketplace has no attribute 'nosuch'"),
    (GOOD.replace("marketplace:calculator", "calculators:evaluate"),
     "member 'calculator': coachgraph.agents.calculators:evaluate is not a LangChain BaseTool"),
    (GOOD.replace("model: scripted", "model: nosuch"), "member 'solver': unknown model spec 'nosuch'; known specs:"),
    (GRAPH, "member 'remote': coachgraph.agents.marketplace:remote_solver takes no argument 'latency'"),
])
def test_checking_a_pool_names_the_first_member_that_cannot_be_built(tmp_path: Path, text: str, message: str) -> None:
    pool = load_pool(_write(tmp_path, text))
    with pytest.raises(ConfigError) as caught:
        check_members(pool)
    assert str(caught.value).startswith(message)
