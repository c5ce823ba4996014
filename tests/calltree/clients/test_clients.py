"""Traces of a LangGraph multi-agent program, written by four real tracing clients, read back by
`coachgraph ingest` as the calling trees the program implies.

The program (`program.py`) runs under OpenInference's LangChain instrumentation, OpenTelemetry's
GenAI LangChain instrumentation and Traceloop's OpenLLMetry instrumentation (each exporting
through OpenTelemetry's OTLP JSON file exporter), and under the LangSmith SDK (`record.py`).
Every run's stored tree must name the agent behind each model and tool call, hold each handoff
as an edge between agents (never as an error), and carry the run's task, outcome, session and
token usage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coachgraph.calltree.schema import CallNode, CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli.main import app
from tests.calltree.clients.program import AGENTS
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

FORMATS = {"openinference": "openinference", "otel-genai": "otlp-json",
           "traceloop": "otlp-json", "langsmith": "langsmith"}
"""Each client and the format its traces are ingested with."""

EXTRA_AGENTS = {"openinference": {"math_team"}, "langsmith": {"math_team"},
                "traceloop": {"coordinator", "math_team"}, "otel-genai": set()}
"""Agent nodes a client records beyond the agents that call models: the math team subgraph the
supervisor hands off to (OpenTelemetry's GenAI instrumentation records no span for a graph node
that is not an agent), and the program's graph, which Traceloop records as `invoke_agent`."""

TOKENS = {"input_tokens", "output_tokens", "total_tokens"}
RECORDS = ("create_agent ", "goto ")
"""The only spans that are no call (`other`): Traceloop's records of an agent's creation and of
a LangGraph `Command`; every other span of every client maps to a call kind."""
runner = CliRunner()


def _record(client: str, out: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "OTEL_", "TRACELOOP_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-m", "tests.calltree.clients.record", client, str(out)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{client} recorder failed:\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every client's traces of the program, recorded side by side in processes of their own."""
    root = tmp_path_factory.mktemp("clients")
    with ThreadPoolExecutor(max_workers=len(FORMATS)) as pool:
        list(pool.map(lambda c: _record(c, root / c), FORMATS))
    return root


def _requests(lines: list[dict[str, Any]], out: Path) -> Path:
    """One `ExportTraceServiceRequest` per file, as an OTLP/HTTP receiver would keep them."""
    out.mkdir()
    for i, request in enumerate(lines):
        (out / f"request-{i:03d}.json").write_text(json.dumps(request))
    return out


def _resource_spans(lines: list[dict[str, Any]], out: Path) -> Path:
    """JSON Lines of bare `ResourceSpans`, one per line."""
    out.write_text("".join(json.dumps(r) + "\n" for line in lines for r in line["resourceSpans"]))
    return out


def _runs_array(lines: list[dict[str, Any]], out: Path) -> Path:
    out.write_text(json.dumps(lines))
    return out


LAYOUTS: dict[str, dict[str, Callable[[list[dict[str, Any]], Path], Path] | None]] = {
    "openinference": {"traces-data.jsonl": None, "requests": _requests,
                      "resource-spans.jsonl": _resource_spans},
    "otel-genai": {"traces-data.jsonl": None, "requests": _requests,
                   "resource-spans.jsonl": _resource_spans},
    "traceloop": {"traces-data.jsonl": None, "requests": _requests,
                  "resource-spans.jsonl": _resource_spans},
    "langsmith": {"runs.jsonl": None, "runs.json": _runs_array},
}
"""How each client's records are laid out on disk: as written (JSON Lines of `TracesData`, one
per exported batch, by the OTLP JSON file exporter; JSON Lines of runs), and rewritten as one
request per file, as JSON Lines of bare `ResourceSpans`, or as one JSON array of runs."""

CASES = [(client, layout) for client, layouts in LAYOUTS.items() for layout in layouts]


def _written(folder: Path, client: str) -> Path:
    return folder / ("runs.jsonl" if client == "langsmith" else "spans.jsonl")


def _lay_out(recorded: Path, client: str, layout: str, tmp_path: Path) -> Path:
    written = _written(recorded / client, client)
    rewrite = LAYOUTS[client][layout]
    if rewrite is None:
        return written
    lines = [json.loads(line) for line in written.read_text().splitlines() if line.strip()]
    return rewrite(lines, tmp_path / layout)


def _ingest(fmt: str, path: Path, store: Path) -> list[CallTree]:
    result = runner.invoke(app, ["ingest", "--format", fmt, "--store", str(store), str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("; 0 quarantined\n"), result.stdout
    with SQLiteCallTreeStore(store) as opened:
        return list(opened.iter_trees())


def _expected(recorded: Path, client: str) -> list[dict[str, Any]]:
    return json.loads((recorded / client / "expected.json").read_text())


def _runs(trees: list[CallTree], expected: list[dict[str, Any]]) -> dict[str, CallTree]:
    """The stored tree of each run, by task; every other stored trace must record no call."""
    by_task = {t.task: t for t in trees if t.task}
    assert sorted(by_task) == sorted(run["task"] for run in expected)
    for tree in trees:
        assert tree.task in by_task or all(n.name.startswith(RECORDS) for n in tree.nodes)
    return by_task


def _ancestors(tree: CallTree, node: CallNode) -> set[str]:
    index, found = {n.id: n for n in tree.nodes}, {node.id}
    while node.parent_id is not None:
        node = index[node.parent_id]
        found.add(node.id)
    return found


def _check_run(tree: CallTree, run: dict[str, Any], client: str) -> None:
    assert (tree.success, tree.session_id) == (run["success"], run["thread"])
    assert tree.source == FORMATS[client]
    llm = [n for n in tree.nodes if n.kind == "llm"]
    assert [n.agent for n in llm] == run["llm_agents"]
    tools = [(n.agent, n.tool, n.status == "error") for n in tree.nodes if n.kind == "tool"]
    assert tools == [tuple(t) for t in run["tools"]]
    handoffs = [(n.agent, n.attributes["to_agent"]) for n in tree.nodes if n.kind == "handoff"]
    assert handoffs == [tuple(h) for h in run["handoffs"]]
    for key in ("input_tokens", "output_tokens"):
        assert sum(n.usage[key] for n in llm) == run["usage"][key]
    assert all(set(n.usage) <= TOKENS and n.usage.get("total_tokens", n.usage["input_tokens"]
               + n.usage["output_tokens"]) == n.usage["input_tokens"] + n.usage["output_tokens"]
               for n in llm)
    _check_agent_nodes(tree, run, client)
    _check_errors(tree, run)
    assert all(n.kind != "other" or n.name.startswith(RECORDS) for n in tree.nodes)


def _check_agent_nodes(tree: CallTree, run: dict[str, Any], client: str) -> None:
    """One agent node per activation of each agent, in the order the agents took turns."""
    turns = [a for i, a in enumerate(run["llm_agents"]) if i == 0 or run["llm_agents"][i - 1] != a]
    agents = [n.agent for n in tree.nodes if n.kind == "agent"]
    assert [a for a in agents if a in AGENTS] == turns
    assert {a for a in agents if a not in AGENTS} <= EXTRA_AGENTS[client]
    assert all(n.agent not in ("model", "tools") for n in tree.nodes)


def _check_errors(tree: CallTree, run: dict[str, Any]) -> None:
    """Only failed tools, and in a failed run what their failure ended, are errors.

    What a failure ends are the tool's ancestors, and the graph records Traceloop keeps beside
    the runs they belong to (leaf `invoke_agent` spans under an ancestor). Handoffs, and the
    nodes a handoff leaves through LangGraph's `ParentCommand`, are never errors.
    """
    errors = {n.id for n in tree.nodes if n.status == "error"}
    failed = [n for n in tree.nodes if n.kind == "tool" and n.status == "error"]
    ended = {n.id for n in failed}
    if not run["success"]:
        ended = set().union(*(_ancestors(tree, n) for n in failed))
        parents = {n.parent_id for n in tree.nodes}
        ended |= {n.id for n in tree.nodes if n.parent_id in ended and n.id not in parents}
    assert errors <= ended and [n.tool for n in failed] == [t[1] for t in run["tools"] if t[2]]
    assert all(n.status != "error" for n in tree.nodes if n.kind == "handoff")


@pytest.mark.parametrize(("client", "layout"), CASES)
def test_runs_read_as_the_program_ran(client: str, layout: str, recorded: Path,
                                      tmp_path: Path) -> None:
    path = _lay_out(recorded, client, layout, tmp_path)
    trees = _ingest(FORMATS[client], path, tmp_path / "s.sqlite")
    expected = _expected(recorded, client)
    runs = _runs(trees, expected)
    for run in expected:
        _check_run(runs[run["task"]], run, client)


@pytest.mark.parametrize("client", sorted(LAYOUTS))
def test_layouts_store_the_same_trees(client: str, recorded: Path, tmp_path: Path) -> None:
    stored = []
    for layout in LAYOUTS[client]:
        path = _lay_out(recorded, client, layout, tmp_path)
        trees = _ingest(FORMATS[client], path, tmp_path / f"{layout}.sqlite")
        stored.append(sorted((t.model_dump() for t in trees), key=lambda t: t["trace_id"]))
    assert all(s == stored[0] for s in stored[1:]) and len(stored[0]) >= 3


@pytest.mark.parametrize(("client", "layout"), CASES)
def test_auto_detects_each_layout_as_its_format(client: str, layout: str, recorded: Path,
                                                tmp_path: Path) -> None:
    """`--format auto` reads what each client wrote (the OTLP JSON file exporter's lines,
    bare `ResourceSpans` lines, one request per file, LangSmith runs) as its own format."""
    path = _lay_out(recorded, client, layout, tmp_path)
    named = _ingest(FORMATS[client], path, tmp_path / "named.sqlite")
    result = runner.invoke(app, ["ingest", "--format", "auto", "--store",
                                 str(tmp_path / "auto.sqlite"), str(path)])
    assert result.exit_code == 0, result.output
    assert f"formats: {FORMATS[client]} (" in result.stdout, result.stdout
    with SQLiteCallTreeStore(tmp_path / "auto.sqlite") as opened:
        assert list(opened.iter_trees()) == named


def _without(recorded: Path, tmp_path: Path, drop: Callable[[str], bool]) -> Path:
    """Traceloop's spans with the attributes `drop` names left out."""
    out = tmp_path / "traceloop.jsonl"
    with out.open("w") as handle:
        for line in _written(recorded / "traceloop", "traceloop").read_text().splitlines():
            request = json.loads(line)
            for resource in request["resourceSpans"]:
                for scope in resource["scopeSpans"]:
                    for span in scope["spans"]:
                        span["attributes"] = [a for a in span.get("attributes", [])
                                              if not drop(a["key"])]
            handle.write(json.dumps(request) + "\n")
    return out


def test_traceloop_session_from_association_properties(recorded: Path, tmp_path: Path) -> None:
    path = _without(recorded, tmp_path, lambda key: key == "gen_ai.conversation.id")
    expected = _expected(recorded, "traceloop")
    runs = _runs(_ingest("otlp-json", path, tmp_path / "s.sqlite"), expected)
    assert [runs[r["task"]].session_id for r in expected] == [r["thread"] for r in expected]


def test_traceloop_agents_from_entity_path(recorded: Path, tmp_path: Path) -> None:
    """Without the LangChain metadata, Traceloop's entity path and its `invoke_agent` spans
    still name the agent behind every call."""
    path = _without(recorded, tmp_path,
                    lambda key: key.startswith("traceloop.association.properties."))
    expected = _expected(recorded, "traceloop")
    runs = _runs(_ingest("otlp-json", path, tmp_path / "s.sqlite"), expected)
    for run in expected:
        tree = runs[run["task"]]
        assert [n.agent for n in tree.nodes if n.kind == "llm"] == run["llm_agents"]
        assert [(n.agent, n.attributes["to_agent"]) for n in tree.nodes
                if n.kind == "handoff"] == [tuple(h) for h in run["handoffs"]]
