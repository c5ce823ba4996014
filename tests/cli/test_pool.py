"""`coachgraph pool show` and `pool check` on the built-in pool and a user's pool file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from coachgraph.agents.pool import BUILTIN_POOL, load_pool
from coachgraph.cli.main import app

runner = CliRunner()

POOL = """schema_version: 1
name: mine
members:
  - {name: calc, tool: "coachgraph.agents.marketplace:calculator", description: "a[i] [bold]x[/] :smile:"}
"""


def test_show_lists_every_member_of_the_builtin_pool() -> None:
    result = runner.invoke(app, ["pool", "show"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in load_pool().names)


def test_show_prints_descriptions_as_text_and_json_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(POOL, encoding="utf-8")
    shown = runner.invoke(app, ["pool", "show", "--pool", str(path)], env={"COLUMNS": "250"})
    assert "a[i] [bold]x[/] :smile:" in shown.output
    as_json = runner.invoke(app, ["pool", "show", "--pool", str(path), "--json"])
    assert json.loads(as_json.output)["members"][0]["description"] == "a[i] [bold]x[/] :smile:"


def test_check_passes_the_builtin_pool() -> None:
    result = runner.invoke(app, ["pool", "check", str(BUILTIN_POOL)], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "11 members (8 agents, 3 tools); every member can be built" in result.output
