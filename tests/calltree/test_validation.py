"""Field validation: a wrong-typed field is named by its JSON path with the type it should have,
nothing is stored with a value it did not have, and the good records of the run are stored."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree import _inputs
from tests.calltree._inputs import RECORD_FILES, write_input


def _spans(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["resourceSpans"][0]["scopeSpans"][0]["spans"]


Edit = Callable[[Any], None]

CASES: list[tuple[str, Edit, str, str]] = [
    # (format, edit of its record file's content, the rejected place, the reason)
    ("who-and-when", lambda r: r["history"][2].update(role=None),
     "Hand-Crafted/1.json", "$.history[2].role: expected a string, got null"),
    ("who-and-when", lambda r: r.update(mistake_step="twelve"),
     "Hand-Crafted/1.json", '$.mistake_step: expected a step number, got the string "twelve"'),
    ("seal-tools", lambda rs: rs[0]["calling"][0].update(api=5),
     "dev.jsonl:1", "$.calling[0].api: expected a string, got the number 5"),
    ("nestful", lambda rs: rs[0]["output"][1].update(name=None),
     "demo-data.json:$[0]", "$[0].output[1].name: expected a string, got null"),
    ("adp", lambda rs: rs[0]["content"][1].update(function=["browse"]),
     "demo_source/sample_std.json:$[0]", "$[0].content[1].function: expected a string, got an array"),
    ("toolbench-dfsdt", lambda r: r["tree"]["tree"]["children"][0].update(node_type="Guess"),
     "G1_answer/7_DFS.json", "$.tree.tree.children[0].node_type: expected one of 'Thought', "
     "'Action' or 'Action Input', got the string \"Guess\""),
    ("toolbench-dfsdt", lambda r: r["tree"]["tree"]["children"][0]["children"][0].update(
        description=None), "G1_answer/7_DFS.json",
     "$.tree.tree.children[0].children[0].description: expected the name of the tool "
     "(a string), got null"),
    ("agent-rec", lambda g: g["traces"][0]["nodes"]["n1"].update(task=7),
     "tool_calling_graphs.json:$.traces[0]",
     "$.traces[0].nodes.n1.task: expected a string, got the number 7"),
    ("agent-rec", lambda g: g["traces"][0].update(edges=[["n1"]]),
     "tool_calling_graphs.json:$.traces[0]",
     "$.traces[0].edges[0]: expected at least 2 items, got 1"),
    ("langsmith", lambda rs: rs[2].update(start_time="yesterday"), "runs.json:$[2]",
     '$[2].start_time: expected an ISO 8601 time, got the string "yesterday"'),
    ("otlp-json", lambda d: _spans(d)[2]["attributes"].append(
        {"key": "flag", "value": {"boolValue": "false"}}),
     "spans.json:$.resourceSpans[0].scopeSpans[0].spans[2]",
     'bad span: $.resourceSpans[0].scopeSpans[0].spans[2].attributes[2].value.boolValue: '
     'expected true or false, got the string "false"'),
    ("otlp-json", lambda d: _spans(d)[2].update(startTimeUnixNano="-5"),
     "spans.json:$.resourceSpans[0].scopeSpans[0].spans[2]",
     'bad span: $.resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano: expected '
     'nanoseconds since the epoch (an unsigned 64-bit integer or its decimal string), got the '
     'string "-5"'),
    ("openinference", lambda rs: rs[2]["context"].update(span_id=3), "spans.json:$[2]",
     "bad span: $[2].context.span_id: expected a non-empty string (a hex id), got the number 3"),
]
"""Each edit breaks one record; the input's other records stay good."""


def _edited(fmt: str, edit: Edit, folder: Path) -> Path:
    path = write_input(fmt, folder)
    file = (path if path.is_file() else path / RECORD_FILES[fmt])
    text = file.read_text()
    lines = file.suffix == ".jsonl"
    content = [json.loads(line) for line in text.splitlines()] if lines else json.loads(text)
    edit(content)
    file.write_text("".join(json.dumps(v) + "\n" for v in content) if lines
                    else json.dumps(content))
    return path


def _good_ids(fmt: str, folder: Path) -> set[str]:
    with SQLiteCallTreeStore(":memory:") as store:
        ingest(store, fmt, [write_input(fmt, folder)])
        return set(store.trace_ids())


@pytest.mark.parametrize(("fmt", "edit", "place", "reason"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_wrong_field_is_named_and_the_rest_is_stored(
        fmt: str, edit: Edit, place: str, reason: str, tmp_path: Path) -> None:
    bad = _edited(fmt, edit, tmp_path / "bad")
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, fmt, [bad, write_input(fmt, tmp_path / "good")])
        stored = list(store.iter_trees())
    folder = bad if bad.is_dir() else bad.parent
    first = report.quarantined[0]
    assert (first.source, first.reason) == (f"{folder / place}", reason)
    assert first.record is not None and first.record_bytes
    good = _good_ids(fmt, tmp_path / "again")
    stored_ids = [t.trace_id for t in stored]
    assert set(stored_ids) <= good and len(stored_ids) >= len(good)


def test_a_null_role_is_not_stored_as_an_agent_named_none(tmp_path: Path) -> None:
    record = copy.deepcopy(_inputs.WHO_AND_WHEN["Hand-Crafted/1.json"])
    record["history"][2]["role"] = None
    (tmp_path / "1.json").write_text(json.dumps(record))
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "who-and-when", [tmp_path])
        assert store.trace_ids() == []
        assert "None" not in store.stats().model_dump_json()
    assert report.rejected == 1


def test_a_string_false_is_not_stored_as_true(tmp_path: Path) -> None:
    document = copy.deepcopy(_inputs.OTLP)
    _spans(document)[0]["attributes"].append({"key": "flag", "value": {"boolValue": "false"}})
    (tmp_path / "t.json").write_text(json.dumps(document))
    with SQLiteCallTreeStore(":memory:") as store:
        ingest(store, "otlp-json", [tmp_path / "t.json"])
        assert store.get_tree("aa01") is None
        kept = store.get_tree("bb02")
        assert kept is not None and "flag" not in kept.nodes[0].attributes
