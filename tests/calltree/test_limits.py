"""Bounded readers: depth, record size and bytes held are checked before a record is expanded;
a record over a limit is rejected with its place and the limit, and the rest is stored."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachgraph.calltree import _json
from coachgraph.calltree._json import depth, loads
from coachgraph.calltree.ingest import Limits, _stream, ingest
from coachgraph.calltree.ingest._scan import ITEM, Piece, scan_records
from coachgraph.calltree.ingest._stream import iter_json_array
from coachgraph.calltree.ingest._structure import closed_prefix, shallow
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.errors import InputLimitError
from tests.calltree import _inputs
from tests.calltree._bounded import GIB, ingest_capped
from tests.calltree._inputs import write_input


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


# -- the bounded parser ---------------------------------------------------------------------

def test_orjson_stops_where_the_bound_relies_on_it() -> None:
    orjson.loads(_nested(_json._ORJSON_DEPTH))
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(_nested(_json._ORJSON_DEPTH + 1))


@pytest.mark.parametrize("limit", [2, 64, 128, 160])
def test_loads_takes_the_limit_and_refuses_one_more(limit: int) -> None:
    assert depth(loads(_nested(limit), max_depth=limit)) == limit
    big = json.dumps({"a": json.loads(_nested(limit - 1)), "pad": "x" * 100_000})
    assert depth(loads(big, max_depth=limit)) == limit
    for text in (_nested(limit + 1), '{"a": ' * (limit + 1) + "1" + "}" * (limit + 1)):
        with pytest.raises(InputLimitError):
            loads(text, max_depth=limit)


@pytest.mark.parametrize("text", ["1],[2", "[1,]", "{", "]", "1 2", "", "[1] x", '{"a"}'])
def test_loads_refuses_what_the_standard_library_refuses(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(ValueError):
        loads(text, max_depth=3)


def test_a_million_levels_are_refused_in_little_memory() -> None:
    with pytest.raises(InputLimitError):
        loads(_nested(1_000_000))


# -- the scanner ----------------------------------------------------------------------------

_strings = st.text(alphabet=st.sampled_from('ab"\\[]{},: \u00e9\u6f22\U0001f642\n'), max_size=8)
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _strings),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(_strings, inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(values=st.lists(_values, max_size=6), chunk=st.integers(1, 40),
       indent=st.sampled_from([None, 1]), ascii_only=st.booleans())
def test_the_scanner_finds_every_record_at_any_chunk_size(
        values: list[Any], chunk: int, indent: int | None, ascii_only: bool) -> None:
    text = json.dumps({"meta": values[:1], "traces": values}, indent=indent,
                      ensure_ascii=ascii_only).encode()
    found = list(scan_records(io.BytesIO(text), ("traces", ITEM), 1 << 20, 0, chunk=chunk))
    assert all(isinstance(p, Piece) for p in found)
    assert [json.loads(p.data) for p in found] == values
    assert [p.depth for p in found] == [depth(v) for v in values]
    assert [p.label for p in found] == [f"$.traces[{i}]" for i in range(len(values))]


def test_the_head_of_a_large_record_is_closed_after_its_last_whole_member() -> None:
    head = b'{"id": "q1", "trace_id": "q1", "inputs": {"text": "a, b", "more": [1, [2, 3'
    assert closed_prefix(head) == (b'{"id": "q1", "trace_id": "q1", "inputs": {"text": "a, b", '
                                   b'"more": [1, [2]]}}')
    assert closed_prefix(b'{"id": "q') is None


def test_shallow_keeps_the_top_levels() -> None:
    span = {"traceId": "ab", "context": {"trace_id": "cd", "deep": [[1]]},
            "attributes": [{"key": "x", "value": {"arrayValue": json.loads(_nested(300))}}]}
    top = shallow(json.dumps(span).encode())
    assert top is not None
    assert json.loads(top) == {"traceId": "ab", "context": {"trace_id": "cd", "deep": None},
                               "attributes": [None]}


# -- limits in every reader -----------------------------------------------------------------

def _spans_with(depth_of_value: int) -> str:
    """The OTLP input with an attribute value nested `depth_of_value` arrays deep in span 1."""
    document = copy.deepcopy(_inputs.OTLP)
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["attributes"].append({"key": "deep", "value": "PLACE"})
    value = ('{"arrayValue": {"values": [' * depth_of_value + '{"stringValue": "leaf"}'
             + "]}}" * depth_of_value)
    return json.dumps(document).replace('"PLACE"', value)


def test_a_deep_span_is_rejected_and_its_file_and_run_are_stored(tmp_path: Path) -> None:
    """The reproduced failure: a 200 KB OTLP/JSON file of deeply nested values once drove the
    ingest to about 23 GB. It now runs in a child capped at 1 GiB."""
    deep = tmp_path / "deep" / "spans.json"
    deep.parent.mkdir()
    deep.write_text(_spans_with(8_000))
    assert 150_000 < deep.stat().st_size < 1_000_000
    good = write_input("otlp-json", tmp_path / "good")
    result = ingest_capped("otlp-json", [deep, good])
    assert result["maxrss"] < GIB
    assert result["traces"] == ["aa01", "bb02"]
    place = f"{deep}:$.resourceSpans[0].scopeSpans[0].spans[1]"
    reasons = dict(result["reasons"])
    assert "over the depth limit of 128 (--max-depth)" in reasons[place]
    assert reasons[f"{deep}:trace aa01"] == f"trace has unreadable spans: {place}"
    assert len(reasons) == 2


def test_a_file_of_nested_arrays_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    file = tmp_path / "nested.json"
    file.write_text('{"resourceSpans": [{"scopeSpans": [{"spans": [' + _nested(100_000)
                    + "]}]}]}")
    good = write_input("otlp-json", tmp_path / "good")
    result = ingest_capped("otlp-json", [file, good])
    assert result["maxrss"] < GIB and result["traces"] == ["aa01", "bb02"]
    assert result["reasons"] == [[
        f"{file}:$.resourceSpans[0].scopeSpans[0].spans[0]",
        "record nests 100000 levels deep, over the depth limit of 128 (--max-depth)"]]


def test_a_deep_who_and_when_file_is_rejected_and_the_good_ones_stored(tmp_path: Path) -> None:
    """The reproduced failure: one 5,000-level file raised RecursionError and stored nothing."""
    folder = write_input("who-and-when", tmp_path / "logs")
    (folder / "Hand-Crafted" / "9.json").write_text(
        '{"question": "q", "history": ' + _nested(5_000) + "}")
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "who-and-when", [folder])
        assert store.trace_ids() == ["who-and-when:Algorithm-Generated:2",
                                     "who-and-when:Hand-Crafted:1"]
    (rejected,) = report.quarantined
    assert rejected.source == str(folder / "Hand-Crafted" / "9.json")
    assert "depth limit of 128 levels (--max-depth)" in rejected.reason
    assert rejected.record_bytes == 10_030


@pytest.mark.parametrize("whole", [True, False], ids=["parsed whole", "scanned"])
def test_records_at_the_depth_limit_are_read_and_one_deeper_rejected(
        whole: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not whole:
        monkeypatch.setattr(_stream, "WHOLE_FILE_LIMIT", -1)
    file = tmp_path / "a.json"
    file.write_text(f"[{_nested(4)}, {_nested(5)}, 7]")
    found = list(iter_json_array(file, limits=Limits(max_depth=4)))
    assert found[0][1] == json.loads(_nested(4)) and found[2][1] == 7
    assert found[1][1].reason == ("record nests 5 levels deep, over the depth limit of 4 "
                                  "(--max-depth)" if not whole else found[1][1].reason)
    assert "depth limit of 4" in found[1][1].reason


def test_a_record_over_the_size_limit_is_never_held(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stream, "WHOLE_FILE_LIMIT", -1)
    runs = copy.deepcopy(_inputs.LANGSMITH)
    runs[2]["inputs"] = {"text": "x" * 50_000}
    file = tmp_path / "runs.json"
    file.write_text(json.dumps(runs))
    limits = Limits(max_record_bytes=10_000, kept_record_bytes=100)
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "langsmith", [file], limits=limits)
        assert store.trace_ids() == ["r1"]
    (rejected,) = report.quarantined
    assert rejected.source == f"{file}:$[2]"
    assert rejected.reason.startswith("record is 48.98 KiB, over the record size limit of "
                                      "9.766 KiB (--max-record-size)")
    assert rejected.record is not None and len(rejected.record) == 100
    assert rejected.record_bytes == len(json.dumps(runs[2])) + 1


def test_a_long_line_is_skipped_without_reading_it_whole(tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in _inputs.SEAL_TOOLS["dev.jsonl"]]
    file = tmp_path / "dev.jsonl"
    file.write_text(lines[0] + "\n" + '{"id": "' + "x" * 300_000 + '"}\n' + lines[1] + "\n")
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "seal-tools", [file], limits=Limits(max_record_bytes=4096))
        assert store.trace_ids() == ["seal-tools:dev-difficult-2", "seal-tools:dev-easy-1"]
    assert [r.source for r in report.quarantined] == [f"{file}:2"]
    assert report.quarantined[0].record_bytes == 300_010


def test_a_span_file_over_the_held_limit_is_refused(tmp_path: Path) -> None:
    file = write_input("openinference", tmp_path)
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "openinference", [file], limits=Limits(max_held_bytes=300))
        assert store.trace_ids() == []
    reasons = [r.reason for r in report.quarantined]
    assert any("--max-held" in r for r in reasons)
    assert all(r.startswith("trace may be incomplete") for r in reasons[1:])


def test_a_deep_json_attribute_stays_text(tmp_path: Path) -> None:
    document = copy.deepcopy(_inputs.OTLP)
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    deep_text = _nested(500)
    spans[1]["attributes"].append({"key": "gen_ai.tool.call.arguments",
                                   "value": {"stringValue": deep_text}})
    (tmp_path / "t.json").write_text(json.dumps(document))
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "otlp-json", [tmp_path / "t.json"])
        tree = store.get_tree("aa01")
    assert report.rejected == 0 and tree is not None
    assert tree.node("s2").inputs == deep_text


@pytest.mark.parametrize("whole", [True, False], ids=["parsed whole", "scanned"])
def test_a_lone_surrogate_rejects_its_record_only(whole: bool, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the fuzz suite: `"\\ud800"` parses (the standard library allows it) but no
    store can hold it, and writing it failed a whole run."""
    if not whole:
        monkeypatch.setattr(_stream, "WHOLE_FILE_LIMIT", -1)
    samples = copy.deepcopy(_inputs.NESTFUL_DATA)
    samples[0]["input"] = "PLACE"
    (tmp_path / "demo-data.json").write_text(
        json.dumps(samples).replace("PLACE", "\\\\ud800"[1:]))
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "nestful", [tmp_path])
        assert store.trace_ids() == ["nestful:demo:1"]
    assert [(r.source, r.reason) for r in report.quarantined] == [
        (f"{tmp_path / 'demo-data.json'}:$[0]", "a string holds an unpaired surrogate escape "
         "(\\ud800 to \\udfff), which is not text")]
