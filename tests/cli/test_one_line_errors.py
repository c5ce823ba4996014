"""Every command of the CLI, given bad arguments, ends in one line on stderr: no traceback, the
input named, nothing left behind.

`BAD` holds the bad invocations per command; `test_every_command_has_bad_arguments` fails when a
command is added without any, so that the table keeps covering the whole CLI.
"""

from __future__ import annotations

import hashlib
import socket
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from coachgraph.cli.main import app
from tests.recommend._trees import make_store

runner = CliRunner()

BAD: dict[str, list[tuple[list[str], str]]] = {
    "models list": [(["--nosuch"], "No such option: --nosuch")],
    "generate": [(["--model", "nope", "hi"], "nope"),
                 (["--max-tokens", "0", "hi"], "--max-tokens"),
                 (["--model", "openai:http://127.0.0.1:{dead_port}#m", "hi"], "cannot reach http://127.0.0.1:{dead_port}"),
                 (["--model", "vllm:some/model", "hi"], "pip install 'coachgraph[vllm]'")],
    "chat": [(["--model", "nope"], "nope"), (["--temperature", "-1"], "--temperature")],
    "ingest": [(["--format", "nosuch", "--store", "{new}", "{missing}"], "nosuch")],
    "calltree list": [(["--store", "{missing}"], "{missing}: no calling-tree store here"),
                      (["--store", "{ok}", "--limit", "0"], "--limit"),
                      (["--store", "{ok}", "--outcome", "maybe"], "'maybe' is not one of")],
    "calltree show": [(["--store", "{notdb}", "t000"], "{notdb}: not a coachgraph calling-tree store"),
                      (["--store", "{ok}", "nosuch"], "no trace 'nosuch'")],
    "calltree stats": [(["--store", "{foreign}"], "it holds other tables: accounts"),
                       ([], "Missing option '--store'")],
    "calltree export": [(["--store", "{ok}", "--format", "otlp-json", "--out", "{existing}"], "{existing}: already exists"),
                        (["--store", "{ok}", "--format", "csv", "--out", "{new}"], "'csv' is not one of"),
                        (["--store", "{ok}", "--format", "otlp-json", "--out", "{new}", "nosuch"], "no trace 'nosuch'")],
    "skills list": [(["--kind", "nosuch", "--library", "{library}"], "'nosuch' is not one of"),
                    (["--library", "{missing}"], "{missing}: no skill library here")],
    "skills show": [(["nosuch", "--library", "{library}"], "nosuch"),
                    (["x", "--library", "{library}", "--version", "0"], "--version")],
    "skills add": [(["{missing}", "--library", "{new}", "--embeddings", "none"], "{missing}: no SKILL.md")],
    "skills validate": [(["{missing}"], "{missing}: no SKILL.md")],
    "skills search": [(["q", "--library", "{library}", "-k", "0", "--embeddings", "none"], "allowed: 1 to 1000"),
                      (["q", "--library", "{missing}", "--embeddings", "none"], "no skill library here")],
    "skills import": [(["{missing}", "--library", "{library}"], "{missing}: not a folder")],
    "train": [(["--skills", "add-9d", "--out", "{new}"], "unknown skill 'add-9d'"),
              (["--teacher", "sec+prereq-gate", "--out", "{new}"], "cannot come last"),
              (["--steps", "0", "--out", "{new}"], "--steps"),
              (["--process-reward", "clipx", "--out", "{new}"], "'clipx' is not one of")],
    "graphs list": [(["extra"], "unexpected extra argument")],
    "graphs draw": [(["nosuch"], "no graph 'nosuch'")],
    "graphs langgraph-json": [(["--out", "{missing}/langgraph.json"], "langgraph.json")],
    "recommend status": [(["--store", "{missing}"], "{missing}: no calling-tree store here")],
    "recommend train": [(["--store", "{missing}"], "{missing}: no calling-tree store here")],
    "recommend next": [(["--store", "{ok}", "--task", "t", "-k", "-1"], "allowed: 1 to 100"),
                       (["--store", "{ok}", "--task", "t", "-k", "0"], "'-k': Input should be greater than or equal to 1; allowed: 1 to 100"),
                       (["--store", "{ok}", "--task", "t", "--kind", "nosuch"], "'nosuch' is not one of"),
                       (["--store", "{ok}", "--task", "t", "--node", "c0"], "--node needs --trace"),
                       (["--store", "{ok}", "--task", "t", "--if-stale", "never"], "'never' is not one of"),
                       (["--store", "{notdb}", "--task", "t"], "{notdb}: not a coachgraph calling-tree store")],
    "recommend team": [(["--store", "{ok}", "--task", "t", "--max-size", "0"], "'--max-size': Input should be greater than or equal to 1; allowed: 1 to 12"),
                       (["--store", "{foreign}", "--task", "t"], "other tables")],
    "serve": [(["--store", "{missing}"], "{missing}: no calling-tree store here"),
              (["--store", "{ok}", "--port", "70000"], "--port"),
              (["--store", "{ok}", "--workers", "0"], "--workers"),
              (["--store", "{ok}", "--api-key-file", "{missing}"], "cannot read the API key file")],
    "bench recommend": [([], "give INPUT files with --format, or --store"),
                        (["--store", "{missing}"], "{missing}: no calling-tree store here")],
    "bench skills": [(["--json", "{new}", "--embeddings", "none"], "the benchmark needs embeddings")],
    "bench curriculum": [(["--json", "{new}", "--teachers", "random,nosuch"], "unknown teacher 'nosuch'"),
                         (["--json", "{new}", "--seeds", "0"], "--seeds")],
}


def _commands(group: typer.Typer) -> set[str]:
    command = typer.main.get_command(group)
    found: set[str] = set()

    def walk(cmd: object, path: str) -> None:
        subcommands = getattr(cmd, "commands", None)
        if subcommands is None:
            found.add(path)
            return
        for name, sub in subcommands.items():
            walk(sub, f"{path} {name}".strip())

    walk(command, "")
    return found


def test_every_command_has_bad_arguments() -> None:
    assert _commands(app) == set(BAD)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bad")
    make_store(root / "ok.sqlite").close()
    (root / "notdb.sqlite").write_text("this is not a database\n")
    with sqlite3.connect(root / "foreign.sqlite") as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    (root / "existing.json").write_text("keep me\n")
    (root / "library").mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    return {"ok": str(root / "ok.sqlite"), "notdb": str(root / "notdb.sqlite"),
            "foreign": str(root / "foreign.sqlite"), "existing": str(root / "existing.json"),
            "library": str(root / "library"), "missing": str(root / "no" / "such" / "place.sqlite"),
            "dead_port": str(dead_port)}


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


CASES = [(cmd, args, expected) for cmd, cases in BAD.items() for args, expected in cases]


@pytest.mark.parametrize(("command", "args", "expected"), CASES,
                         ids=[f"{c}:{' '.join(a)}" for c, a, _ in CASES])
def test_bad_arguments_end_in_one_line(command: str, args: list[str], expected: str,
                                       places: dict[str, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COACHGRAPH_API_KEY", raising=False)
    values = {**places, "new": str(tmp_path / "new" / "out")}
    argv = [*command.split(), *(a.format(**values) for a in args)]
    root = Path(places["ok"]).parent
    before = _digests(root)
    result = runner.invoke(app, argv, env={"COLUMNS": "80"})
    lines = result.stderr.strip().splitlines()
    assert result.exit_code != 0, result.output
    assert len(lines) == 1, f"stderr is {len(lines)} lines:\n{result.stderr}"
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert expected.format(**values) in lines[0]
    assert not (tmp_path / "new").exists(), "a failed command left something behind"
    assert not Path(places["missing"]).parent.parent.exists(), "a failed command created folders"
    assert _digests(root) == before, "a failed command changed an existing file"
