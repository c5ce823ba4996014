"""Fuzzing the readers: truncated and corrupted OTLP/JSON and agent-rec files (no crash, no
partial trace, a place), and hostile inputs of at most 1 MB in every format and every layout
tracing clients write, ingested in a child capped at 1 GiB of memory (`fuzz_worker`)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coachgraph.calltree.export import write_otlp_json
from coachgraph.calltree.ingest import FORMATS, ingest
from coachgraph.calltree.ingest.agent_rec import GRAPHS_FILE, POOL_FILE
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree._bounded import GIB, run_capped
from tests.calltree._inputs import SHAPES
from tests.calltree._trees import sample_tree
from tests.calltree.test_roundtrip import AGENT_REC_GRAPHS, AGENT_REC_POOL


def _otlp_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "t.json"
        write_otlp_json([sample_tree("a"), sample_tree("b")], out)
        return out.read_bytes()


OTLP = _otlp_bytes()
GRAPHS = json.dumps(AGENT_REC_GRAPHS, indent=1).encode()
EXPECTED = {"a": sample_tree("a"), "b": sample_tree("b")}

mutations = st.one_of(
    st.integers(0, 4000).map(lambda n: ("cut", n, b"")),
    st.tuples(st.just("flip"), st.integers(0, 4000), st.binary(min_size=1, max_size=4)),
)


def _mutate(data: bytes, mutation: tuple[str, int, bytes]) -> bytes:
    kind, at, junk = mutation
    at = at % max(len(data), 1)
    return data[:at] if kind == "cut" else data[:at] + junk + data[at + len(junk):]


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutation=mutations)
def test_corrupted_otlp(mutation: tuple[str, int, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "t.json"
        file.write_bytes(_mutate(OTLP, mutation))
        with SQLiteCallTreeStore(":memory:") as store:
            report = ingest(store, "otlp-json", [file])
            stored = list(store.iter_trees())
        for tree in stored:
            expected = EXPECTED.get(tree.trace_id)
            assert expected is None or len(tree.nodes) == len(expected.nodes)
        assert all(r.source.startswith(str(file)) and r.reason for r in report.quarantined)
        assert report.quarantined or len(stored) == report.traces


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutation=mutations)
def test_corrupted_agent_rec(mutation: tuple[str, int, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / GRAPHS_FILE).write_bytes(_mutate(GRAPHS, mutation))
        (root / POOL_FILE).write_text(json.dumps(AGENT_REC_POOL))
        with SQLiteCallTreeStore(":memory:") as store:
            report = ingest(store, "agent-rec", [root])
            stored = list(store.iter_trees())
        originals = {t["trace_id"]: t for t in AGENT_REC_GRAPHS["traces"]}
        for tree in stored:
            original = originals.get(tree.trace_id)
            assert original is None or {n.id for n in tree.nodes} <= set(original["nodes"])
        assert all(r.source.startswith(str(root)) and r.reason for r in report.quarantined)


def test_truncated_otlp_stores_nothing(tmp_path: Path) -> None:
    file = tmp_path / "cut.json"
    file.write_bytes(OTLP[: len(OTLP) * 3 // 4])
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "otlp-json", [file])
        assert store.trace_ids() == []
    assert report.quarantined and "$.resourceSpans[" in report.quarantined[0].source


def test_bad_agent_rec_record_is_named(tmp_path: Path) -> None:
    graphs = json.loads(GRAPHS)
    graphs["traces"][0]["edges"].append(["node_9", "node_1"])
    (tmp_path / GRAPHS_FILE).write_text(json.dumps(graphs))
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "agent-rec", [tmp_path])
        assert store.trace_ids() == ["trace_2"]
    assert [r.source for r in report.quarantined] == [f"{tmp_path / GRAPHS_FILE}:$.traces[0]"]
    assert "node_9" in report.quarantined[0].reason


EXAMPLES = 100
"""Hostile inputs per input layout in CI (the worker's `--examples` runs more)."""


@pytest.mark.slow
def test_hostile_inputs_of_every_format_within_1_gib() -> None:
    summary = run_capped("from tests.calltree.fuzz_worker import main; "
                         f"main(['--examples', '{EXAMPLES}'])", cap=GIB, timeout=600)
    assert summary["failures"] == {}, "\n".join(summary["failures"].values())
    assert {shape: seen["runs"] for shape, seen in summary["inputs"].items()} == dict.fromkeys(
        SHAPES, EXAMPLES)
    assert {SHAPES[shape].format for shape in summary["inputs"]} == set(FORMATS)
    assert max(seen["largest"] for seen in summary["inputs"].values()) > 800_000
    assert summary["maxrss"] < GIB
