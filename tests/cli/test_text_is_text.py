"""User and model text prints as text everywhere in the CLI: rich markup, emoji codes and
bracketed words in skill descriptions, trace tasks, node names, model answers and error messages
come out exactly as stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from coachgraph.calltree.schema import CallNode, CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli.main import app
from coachgraph.models import backends  # noqa: F401  (registers the built-in backends first)
from coachgraph.models.registry import CHAT_MODELS, ChatModelEntry
from tests.fakes import ScriptedChatModel

runner = CliRunner()

TRICKY = "a[i] [/] [bold red]loud[/] :smile: [link=http://x]y[/link]"
"""Each piece is rich markup or an emoji code; printed as markup it crashes or loses text."""
WIDE = {"COLUMNS": "250"}


def _invoke(args: list[str], **kwargs: object) -> str:
    result = runner.invoke(app, args, env=WIDE, **kwargs)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming" / "bracket-text"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        f'---\nname: bracket-text\ndescription: "{TRICKY}"\n---\nIndex with {TRICKY} in the body.\n',
        encoding="utf-8")
    library = tmp_path / "library"
    _invoke(["skills", "add", str(folder), "--library", str(library), "--embeddings", "none"])
    return library


def test_skill_text_in_list_search_and_show(library: Path) -> None:
    assert TRICKY in _invoke(["skills", "list", "--library", str(library)])
    assert TRICKY in _invoke(["skills", "search", "bracket text", "--library", str(library), "--embeddings", "none"])
    shown = _invoke(["skills", "show", "bracket-text", "--library", str(library)])
    assert shown.count(TRICKY) >= 2  # the description and the body


def test_trace_text_in_list_and_show(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    nodes = [CallNode(id="n[0]", trace_id="t[1]", kind="agent", name=TRICKY, agent="[bold]planner"),
             CallNode(id="n1", parent_id="n[0]", trace_id="t[1]", kind="tool", name="run a[i]",
                      tool="calc[/]", status="error", error="failed at [/] :boom:")]
    with SQLiteCallTreeStore(store) as opened:
        opened.put_tree(CallTree(trace_id="t[1]", task=TRICKY, nodes=nodes))
    listed = _invoke(["calltree", "list", "--store", str(store)])
    assert "t[1]" in listed and TRICKY in listed
    shown = _invoke(["calltree", "show", "--store", str(store), "t[1]"])
    for text in (TRICKY, "n[0]", "calc[/]", "run a[i]", "failed at [/] :boom:"):
        assert text in shown


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `scripted:ANSWER` model spec whose model answers ANSWER (a fake of the real interface)."""
    entry = ChatModelEntry(lambda answer, **_: ScriptedChatModel(answers=[answer]), "scripted:<answer>",
                           "replays ANSWER", takes_argument=True)
    monkeypatch.setitem(CHAT_MODELS, "scripted", entry)


def test_model_answers_in_generate_and_chat(scripted: None) -> None:
    assert _invoke(["generate", "--model", f"scripted:{TRICKY}", "hi"]).strip() == TRICKY
    chat = runner.invoke(app, ["chat", "--model", f"scripted:{TRICKY}"], input="hi [/]\n\n", env=WIDE)
    assert chat.exit_code == 0 and f"model> {TRICKY}" in chat.stdout


def test_bracketed_words_in_errors_survive() -> None:
    result = runner.invoke(app, ["generate", "--model", "vllm:org/model", "hi"])
    assert result.exit_code == 2
    assert "pip install 'coachgraph[vllm]'" in result.stderr
    missing = runner.invoke(app, ["calltree", "stats", "--store", "no[/]where/a[i].sqlite"])
    assert "no[/]where/a[i].sqlite" in missing.stderr
