"""The `ingest` command and the `calltree` group, through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from coachgraph.cli import calltree
from tests.calltree.test_roundtrip import AGENT_REC_GRAPHS, AGENT_REC_POOL, _write

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    calltree.register(app)
    return app


def test_ingest_quarantine_strict_show_stats_export(tmp_path: Path) -> None:
    good = _write(tmp_path / "good", AGENT_REC_GRAPHS, AGENT_REC_POOL)
    broken = dict(AGENT_REC_GRAPHS, traces=[{"trace_id": "x", "nodes": {}, "edges": [["a", "b"]]},
                                            *AGENT_REC_GRAPHS["traces"]])
    bad = _write(tmp_path / "bad", broken, AGENT_REC_POOL)
    store, app = str(tmp_path / "s.sqlite"), _app()
    result = runner.invoke(app, ["ingest", "--format", "agent-rec", "--store", store, str(good)])
    assert result.exit_code == 0 and result.stdout == "ingested 2 traces, 5 nodes; 0 quarantined\n"
    quarantine = tmp_path / "q.jsonl"
    result = runner.invoke(app, ["ingest", "--format", "agent-rec", "--store", store,
                                 "--quarantine", str(quarantine), str(bad)])
    assert result.stdout == "ingested 2 traces, 5 nodes; 1 quarantined\n"
    assert json.loads(quarantine.read_text())["source"].endswith("$.traces[0]")
    result = runner.invoke(app, ["ingest", "--format", "agent-rec", "--store", store,
                                 "--strict", str(bad)])
    assert result.exit_code == 2 and "$.traces[0]" in result.stderr
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
