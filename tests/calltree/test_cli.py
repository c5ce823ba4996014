"""The `ingest` command and the `calltree` group, through typer's test runner: every failure
ends in one line naming the input and what to do, with an exit code that says what happened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli import calltree
from tests.calltree._inputs import write_input
from tests.calltree.test_roundtrip import AGENT_REC_GRAPHS, AGENT_REC_POOL, _write

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    calltree.register(app)
    return app


def _ingest(*args: str) -> Result:
    return runner.invoke(_app(), ["ingest", *args])


def _last_error(result: Result) -> str:
    """The last line on stderr, checked to be the one-line error and not a traceback."""
    assert "Traceback" not in result.stderr and "╭" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: ")
    return lines[-1]


def test_ingest_quarantine_strict_show_stats_export(tmp_path: Path) -> None:
    good = _write(tmp_path / "good", AGENT_REC_GRAPHS, AGENT_REC_POOL)
    broken = dict(AGENT_REC_GRAPHS, traces=[{"trace_id": "x", "nodes": {}, "edges": [["a", "b"]]},
                                            *AGENT_REC_GRAPHS["traces"]])
    bad = _write(tmp_path / "bad", broken, AGENT_REC_POOL)
    store = str(tmp_path / "s.sqlite")
    result = _ingest("--format", "agent-rec", "--store", store, str(good))
    assert result.exit_code == 0 and result.stdout == "ingested 2 traces, 5 nodes; 0 quarantined\n"
    assert result.stderr == ""
    quarantine = tmp_path / "q.jsonl"
    result = _ingest("--format", "agent-rec", "--store", store, "--quarantine", str(quarantine),
                     str(bad))
    assert result.exit_code == 0
    assert result.stdout == (f"ingested 2 traces, 5 nodes; 1 quarantined (appended to "
                             f"{quarantine})\n")
    assert result.stderr == (f"warning: 1 records quarantined in {quarantine}; the first: "
                             f"{bad / 'tool_calling_graphs.json'}:$.traces[0]: $.traces[0]."
                             "edges[0]: node 'a' is not in $.nodes\n")
    assert json.loads(quarantine.read_text())["source"].endswith("$.traces[0]")
    result = _ingest("--format", "agent-rec", "--store", store, "--strict", str(bad))
    assert result.exit_code == 3
    assert _last_error(result) == (
        f"error: {bad / 'tool_calling_graphs.json'}:$.traces[0]: $.traces[0].edges[0]: node 'a' "
        f"is not in $.nodes; stopped by --strict after 0 traces (the record is in "
        f"{store}.quarantine.jsonl)")
    app = _app()
    result = runner.invoke(app, ["calltree", "show", "--store", store, "trace_1", "--png",
                                 str(tmp_path / "t.png")])
    assert result.exit_code == 0 and "search_web" in result.stdout
    assert (tmp_path / "t.png").stat().st_size > 1000
    result = runner.invoke(app, ["calltree", "stats", "--store", store])
    assert result.exit_code == 0 and "traces" in result.stdout
    for fmt, out in (("otlp-json", tmp_path / "o.json"), ("agent-rec", tmp_path / "ar")):
        result = runner.invoke(app, ["calltree", "export", "--store", store, "--format", fmt,
                                     "--out", str(out), "trace_1"])
        assert result.exit_code == 0 and result.stdout.startswith("exported 1 traces to")
    result = runner.invoke(app, ["calltree", "show", "--store", store, "missing"])
    assert result.exit_code == 2 and "missing" in result.stderr


def _store(tmp_path: Path) -> str:
    from tests.calltree._trees import sample_tree

    path = tmp_path / "s.sqlite"
    other = sample_tree("b", success=False)
    other.task = "Plan a trip"
    with SQLiteCallTreeStore(path) as store:
        store.put_trees([sample_tree("a"), other, sample_tree("c", None)])
    return str(path)


def test_list_filters_and_pages(tmp_path: Path) -> None:
    store, app = _store(tmp_path), _app()
    wide = {"COLUMNS": "120"}
    result = runner.invoke(app, ["calltree", "list", "--store", store], env=wide)
    assert result.exit_code == 0
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()[:1] in ("a", "b", "c")]
    assert [(r[0], r[1], r[2]) for r in rows] == [("a", "success", "4"), ("b", "failure", "4"), ("c", "unknown", "4")]
    assert "traces 1-3 of 3" in result.stdout
    failed = runner.invoke(app, ["calltree", "list", "--store", store, "--outcome", "failure"], env=wide)
    assert "Plan a trip" in failed.stdout and "Add two fractions" not in failed.stdout
    page = runner.invoke(app, ["calltree", "list", "--store", store, "--limit", "1", "--offset", "1", "--json"])
    assert [json.loads(line)["trace_id"] for line in page.stdout.splitlines()] == ["b"]
    agent = runner.invoke(app, ["calltree", "list", "--store", store, "--agent", "critic", "--task", "TRIP", "--json"])
    assert [json.loads(line)["task"] for line in agent.stdout.splitlines()] == ["Plan a trip"]
    none = runner.invoke(app, ["calltree", "list", "--store", store, "--tool", "nope"])
    assert none.exit_code == 0 and none.stdout.strip() == "no traces match"


def test_show_prints_node_ids_and_writes_pictures(tmp_path: Path) -> None:
    store, app = _store(tmp_path), _app()
    result = runner.invoke(app, ["calltree", "show", "--store", store, "a", "--png", str(tmp_path / "a.png"),
                                 "--html", str(tmp_path / "a.html")], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for node_id, name in (("root", "planner"), ("c1", "search"), ("c2", "critic"), ("c3", "calc")):
        assert any(f"{node_id} " in line and name in line for line in lines), node_id
    assert "wrote" in result.stdout and (tmp_path / "a.png").stat().st_size > 5000
    assert (tmp_path / "a.html").read_text().count("<li ") == 4


def test_export_refuses_to_overwrite_and_leaves_no_partial_file(tmp_path: Path) -> None:
    store, app = _store(tmp_path), _app()
    out = tmp_path / "o.json"
    out.write_text("precious\n")
    refused = runner.invoke(app, ["calltree", "export", "--store", store, "--format", "otlp-json", "--out", str(out)])
    assert refused.exit_code == 2 and "already exists" in refused.stderr
    assert out.read_text() == "precious\n"
    done = runner.invoke(app, ["calltree", "export", "--store", store, "--format", "otlp-json", "--out", str(out),
                               "--overwrite"])
    assert done.exit_code == 0 and len(json.loads(out.read_text())["resourceSpans"]) == 3
    folder = tmp_path / "ar"
    for _ in range(2):
        done = runner.invoke(app, ["calltree", "export", "--store", store, "--format", "agent-rec", "--out",
                                   str(folder), "--overwrite"])
        assert done.exit_code == 0, done.output
    assert sorted(p.name for p in folder.iterdir()) == ["tool_calling_graphs.json", "tool_pool.json"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_read_only_commands_leave_a_mistyped_path_alone(tmp_path: Path) -> None:
    app = _app()
    typo = tmp_path / "tpyo" / "s.sqlite"
    for args in (["list"], ["stats"], ["show", "x"], ["export", "--format", "otlp-json", "--out", str(tmp_path / "o")]):
        result = runner.invoke(app, ["calltree", *args, "--store", str(typo)])
        assert result.exit_code == 2 and "no calling-tree store here" in result.stderr, args
    assert list(tmp_path.iterdir()) == []
def test_the_wrong_format_for_a_folder_ingests_nothing_and_says_why(tmp_path: Path) -> None:
    folder = write_input("who-and-when", tmp_path / "logs")
    result = _ingest("--format", "nestful", "--store", str(tmp_path / "s.sqlite"), str(folder))
    assert result.exit_code == 1
    assert _last_error(result) == (
        f"error: nothing ingested from {folder}: {folder}: no nestful input here (looked for "
        "*-data.json); it holds a Who&When log: read it with --format who-and-when (or "
        "--format auto)")


def test_the_wrong_format_for_a_file_ingests_nothing_and_says_why(tmp_path: Path) -> None:
    file = write_input("otlp-json", tmp_path)
    store = tmp_path / "s.sqlite"
    result = _ingest("--format", "langsmith", "--store", str(store), str(file))
    assert result.exit_code == 1
    assert _last_error(result).endswith(
        "this looks like OTLP/JSON spans (OpenTelemetry GenAI), not langsmith; read it with "
        f"--format otlp-json (or --format auto) (1 rejected, see {store}.quarantine.jsonl)")


def test_auto_reads_each_file_as_its_format(tmp_path: Path) -> None:
    write_input("otlp-json", tmp_path / "a")
    write_input("seal-tools", tmp_path / "b")
    result = _ingest("--format", "auto", "--store", str(tmp_path / "s.sqlite"), str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("ingested 4 traces, 8 nodes; 0 quarantined\n"
                             "formats: otlp-json (1 files), seal-tools (1 files)\n")


@pytest.mark.parametrize(("args", "names"), [
    (["--format", "nosuch"], "--format"),
    (["--format", "adp", "--max-depth", "0"], "--max-depth"),
    (["--format", "adp", "--max-depth", "1000"], "--max-depth"),
    (["--format", "adp", "--max-record-size", "lots"], "--max-record-size"),
    (["--format", "adp", "--max-held", "0"], "--max-held"),
])
def test_bad_options_are_refused_by_the_parser(args: list[str], names: str,
                                               tmp_path: Path) -> None:
    result = _ingest(*args, "--store", str(tmp_path / "s.sqlite"), str(tmp_path))
    assert result.exit_code == 2 and names in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "s.sqlite").exists()


def test_a_missing_input_is_named(tmp_path: Path) -> None:
    result = _ingest("--format", "adp", "--store", str(tmp_path / "s.sqlite"),
                     str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert _last_error(result) == f"error: {tmp_path / 'nope'}: no such file or folder"


def test_a_store_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    store = tmp_path / "notes.txt"
    store.write_text("plain text, not a database " * 100)
    result = _ingest("--format", "seal-tools", "--store", str(store),
                     str(write_input("seal-tools", tmp_path / "in")))
    assert result.exit_code == 2
    assert _last_error(result).startswith(f"error: {store}: ")


def test_an_unreadable_file_is_quarantined_and_the_rest_ingested(tmp_path: Path) -> None:
    folder = write_input("who-and-when", tmp_path / "logs")
    (folder / "Hand-Crafted" / "dir.json").mkdir()
    result = _ingest("--format", "who-and-when", "--store", str(tmp_path / "s.sqlite"),
                     str(folder))
    assert result.exit_code == 0 and result.stdout.startswith("ingested 2 traces")


def test_a_quarantine_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    folder = write_input("who-and-when", tmp_path / "logs")
    (folder / "Hand-Crafted" / "9.json").write_text('{"question": null, "history": []}')
    result = _ingest("--format", "who-and-when", "--store", str(tmp_path / "s.sqlite"),
                     "--quarantine", str(blocker / "q.jsonl"), str(folder))
    assert result.exit_code == 2
    assert _last_error(result).startswith(f"error: {blocker}")
