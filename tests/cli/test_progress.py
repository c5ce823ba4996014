"""Long commands show progress on a terminal, and nothing of it in pipes or logs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from coachgraph.cli import _console
from coachgraph.cli.main import app


def _skills(root: Path, n: int) -> Path:
    for i in range(n):
        folder = root / ".claude" / "skills" / f"skill-{i}"
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(f"---\nname: skill-{i}\ndescription: does thing {i}\n---\nBody {i}.\n")
    return root


@pytest.mark.parametrize("terminal", [True, False])
def test_skill_import_shows_a_bar_only_on_a_terminal(terminal: bool, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(_console, "err_console", Console(file=screen, force_terminal=terminal, width=100))
    project = _skills(tmp_path / "project", 3)
    result = CliRunner().invoke(app, ["skills", "import", str(project), "--library", str(tmp_path / "lib"),
                                      "--embeddings", "none"])
    assert result.exit_code == 0, result.output
    assert "imported 3: skill-0 skill-1 skill-2" in result.stdout
    shown = screen.getvalue()
    assert ("importing skills" in shown and "3/3" in shown) if terminal else shown == ""


def test_export_reads_traces_under_a_bar_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.recommend._trees import make_store

    screen = io.StringIO()
    monkeypatch.setattr(_console, "err_console", Console(file=screen, force_terminal=True, width=100))
    make_store(tmp_path / "s.sqlite").close()
    result = CliRunner().invoke(app, ["calltree", "export", "--store", str(tmp_path / "s.sqlite"), "--format",
                                      "otlp-json", "--out", str(tmp_path / "o.json")])
    assert result.exit_code == 0 and "exported 60 traces" in result.stdout
    assert "reading traces" in screen.getvalue()
