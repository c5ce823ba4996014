"""The JSON readers: one-pass parsing of small files reads exactly what streaming reads."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest

from coachgraph.calltree._json import loads
from coachgraph.calltree.ingest import _stream, ingest
from coachgraph.calltree.ingest._stream import BadJson, iter_json_array, iter_jsonl
from coachgraph.calltree.sqlite import SQLiteCallTreeStore

DOCUMENTS = {
    "array": ([{"a": 1}, {"b": [1.5, "x"]}, 3], "item"),
    "nested": ({"traces": [{"id": 1}, {"id": 2}], "other": [0]}, "traces.item"),
    "missing": ({"other": [0]}, "traces.item"),
    "key named item": ({"item": {"id": 1}}, "item"),
    "not an array": ({"traces": {"id": 1}}, "traces.item"),
}


def _both(path: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
          ) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """What the reader yields parsing the file in one pass, and streaming it."""
    whole = list(iter_json_array(path, prefix))
    monkeypatch.setattr(_stream, "WHOLE_FILE_LIMIT", -1)
    streamed = list(iter_json_array(path, prefix))
    monkeypatch.undo()
    return whole, streamed


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_whole_file_reads_like_streaming(name: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    document, prefix = DOCUMENTS[name]
    path = tmp_path / "f.json"
    path.write_text(json.dumps(document))
    whole, streamed = _both(path, prefix, monkeypatch)
    assert whole == streamed


def test_broken_file_yields_what_precedes_the_break(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.json"
    path.write_text('{"traces": [{"id": 1}, {"id": 2}, {"id": ')
    whole, streamed = _both(path, "traces.item", monkeypatch)
    assert [v for _, v in whole[:-1]] == [{"id": 1}, {"id": 2}]
    assert isinstance(whole[-1][1], BadJson)
    assert whole[-1][0].endswith("f.json:$.traces[2]")
    assert [(s, type(v)) for s, v in whole] == [(s, type(v)) for s, v in streamed]


def test_loads_accepts_what_the_standard_library_accepts(tmp_path: Path) -> None:
    assert loads('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    assert loads(b"[NaN, 123456789012345678901234567890]")[1] == 123456789012345678901234567890
    with pytest.raises(json.JSONDecodeError):
        loads("{")
    path = tmp_path / "f.jsonl"
    path.write_text('{"a": NaN}\n\n{broken\n')
    (first_source, first), (second_source, second) = iter_jsonl(path)
    assert first_source.endswith(":1") and first["a"] != first["a"]
    assert second_source.endswith(":3") and second.reason.startswith("invalid JSON")


def test_ingest_restores_the_collector_settings(tmp_path: Path) -> None:
    before = gc.get_threshold()
    with SQLiteCallTreeStore(tmp_path / "s.sqlite") as store:
        ingest(store, "agent-rec", [])
    assert gc.get_threshold() == before
