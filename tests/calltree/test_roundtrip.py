"""Round trips: agent-rec → store → agent-rec and store → OTLP/JSON → store give equal trees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coachgraph.calltree.export import write_otlp_json
from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.ingest.agent_rec import GRAPHS_FILE, POOL_FILE, write_agent_rec
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree._trees import sample_tree

AGENT_REC_GRAPHS = {"traces": [
    {"trace_id": "trace_1",
     "nodes": {"node_1": {"task": "Call search_web", "input_spec": "{}", "output_spec": "result"},
               "node_2": {"task": "Call summarize", "input_spec": "result",
                          "output_spec": "summary", "note": "kept"},
               "node_3": {"task": "Call critic", "input_spec": "summary", "output_spec": "ok"},
               "node_4": {"task": "Reply to user", "input_spec": "ok", "output_spec": "answer"}},
     "edges": [["node_1", "node_2"], ["node_2", "node_3"], ["node_1", "node_3"],
               ["node_3", "node_4"]],
     "decisions": [{"node": "node_1", "candidates": ["summarize", "search_web"],
                    "chosen": "summarize"}]},
    {"trace_id": "trace_2", "nodes": {"a": {"task": "Call search_web", "input_spec": "{}",
                                            "output_spec": "r"}},
     "edges": [], "decisions": []},
]}
AGENT_REC_POOL = {"tools": {"search_web": {"description": "Search the web", "inputs": "query"},
                            "summarize": {"description": "Summarise text", "inputs": "text"},
                            "critic": {"description": "Checks answers", "inputs": "answer",
                                       "kind": "agent"}}}


def _write(folder: Path, graphs: object, pool: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / GRAPHS_FILE).write_text(json.dumps(graphs))
    (folder / POOL_FILE).write_text(json.dumps(pool))
    return folder


def _edges(graphs: dict) -> list[set[tuple[str, str]]]:
    return [{tuple(e) for e in t["edges"]} for t in graphs["traces"]]


def test_agent_rec_store_agent_rec(tmp_path: Path) -> None:
    source = _write(tmp_path / "in", AGENT_REC_GRAPHS, AGENT_REC_POOL)
    with SQLiteCallTreeStore(tmp_path / "a.sqlite") as store:
        report = ingest(store, "agent-rec", [source])
        assert (report.traces, report.nodes, report.quarantined) == (2, 5, [])
        first = store.get_tree("trace_1")
        assert first is not None and first.node("node_3").kind == "agent"
        assert first.node("node_3").attributes["agent_rec.also_after"] == ["node_1"]
        trees = list(store.iter_trees())
        pools = [store.get_pool(first.pool_ref)]
        write_agent_rec(trees, tmp_path / "out", pools)
    written = json.loads((tmp_path / "out" / GRAPHS_FILE).read_text())
    for original, copy in zip(AGENT_REC_GRAPHS["traces"], written["traces"], strict=True):
        assert copy["nodes"] == original["nodes"]
        assert copy["decisions"] == original["decisions"]
    assert _edges(written) == _edges(AGENT_REC_GRAPHS)
    assert json.loads((tmp_path / "out" / POOL_FILE).read_text())["tools"] == \
        AGENT_REC_POOL["tools"]
    with SQLiteCallTreeStore(tmp_path / "b.sqlite") as again:
        ingest(again, "agent-rec", [tmp_path / "out"])
        assert list(again.iter_trees()) == trees


def _otlp_round_trip(trees: list, tmp_path: Path, suffix: str) -> list:
    out = tmp_path / f"export{suffix}"
    assert write_otlp_json(trees, out) == len(trees)
    with SQLiteCallTreeStore(tmp_path / f"o{suffix}.sqlite") as store:
        report = ingest(store, "otlp-json", [out])
        assert report.quarantined == []
        return [store.get_tree(t.trace_id) for t in trees]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_store_otlp_store(tmp_path: Path, suffix: str) -> None:
    trees = [sample_tree("a"), sample_tree("b", success=None)]
    assert _otlp_round_trip(trees, tmp_path, suffix) == trees


@pytest.mark.corpora
def test_store_otlp_store_on_corpora(corpora_dir: Path, tmp_path: Path) -> None:
    with SQLiteCallTreeStore(tmp_path / "c.sqlite") as store:
        ingest(store, "who-and-when", [corpora_dir / "who_and_when" / "Who&When" / "Hand-Crafted"])
        ingest(store, "toolbench-dfsdt", [corpora_dir / "toolbench_dfsdt_examples"])
        trees = list(store.iter_trees())
    assert len(trees) == 58 + 15
    assert _otlp_round_trip(trees, tmp_path, ".json") == trees


def test_otlp_export_uses_genai_conventions(tmp_path: Path) -> None:
    out = tmp_path / "one.json"
    write_otlp_json([sample_tree()], out)
    spans = json.loads(out.read_text())["resourceSpans"][0]["scopeSpans"][0]["spans"]
    attrs = {a["key"]: a["value"] for a in spans[3]["attributes"]}
    assert attrs["gen_ai.operation.name"] == {"stringValue": "execute_tool"}
    assert attrs["gen_ai.tool.name"] == {"stringValue": "calc"}
    assert attrs["error.type"] == {"stringValue": "ZeroDivisionError"}
    assert spans[3]["status"]["code"] == 2
    assert spans[3]["parentSpanId"] == spans[2]["spanId"] and len(spans[0]["traceId"]) == 32
