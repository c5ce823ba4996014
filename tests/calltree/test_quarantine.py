"""The quarantine file: each run appends its rejected records, marked, keeping the records."""

from __future__ import annotations

import json
from pathlib import Path

from coachgraph.calltree.ingest import Limits, ingest
from coachgraph.calltree.sqlite import SQLiteCallTreeStore


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _queries(folder: Path, *records: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


GOOD = {"id": "g", "query": "q", "calling": []}


def test_runs_append_marked_entries_that_keep_the_record(tmp_path: Path) -> None:
    quarantine = tmp_path / "q.jsonl"
    bad = {"id": "b", "query": None, "calling": [], "note": "caf\u00e9 \U0001f642"}
    first = _queries(tmp_path / "one", GOOD, bad)
    second = _queries(tmp_path / "two", bad, GOOD, "not a query")
    with SQLiteCallTreeStore(":memory:") as store:
        one = ingest(store, "seal-tools", [first], quarantine=quarantine)
        two = ingest(store, "seal-tools", [second], quarantine=quarantine)
        assert store.trace_ids() == ["seal-tools:g"]
    entries = _lines(quarantine)
    assert (one.rejected, two.rejected, len(entries)) == (1, 2, 3)
    assert len({e["run"] for e in entries}) == 2 and entries[1]["run"] == entries[2]["run"]
    assert entries[0]["source"] == f"{first / 'dev.jsonl'}:2"
    assert entries[0]["reason"] == "$.query: expected a string, got null"
    assert json.loads(entries[0]["record"]) == bad and entries[0]["format"] == "seal-tools"
    assert entries[0]["record_bytes"] == len(json.dumps(bad, ensure_ascii=False,
                                                        separators=(",", ":")).encode())
    assert entries[2]["reason"] == '$: expected an object, got the string "not a query"'
    assert set(entries[0]) == {"run", "started", "format", "source", "reason", "record",
                               "record_bytes"}


def test_a_long_record_is_kept_cut_with_its_size(tmp_path: Path) -> None:
    bad = {"id": "b", "query": 5, "calling": [], "pad": "x" * 5000}
    folder = _queries(tmp_path / "in", bad)
    quarantine = tmp_path / "q.jsonl"
    with SQLiteCallTreeStore(":memory:") as store:
        ingest(store, "seal-tools", [folder], quarantine=quarantine,
               limits=Limits(kept_record_bytes=1000))
    (entry,) = _lines(quarantine)
    assert len(entry["record"]) == 1000 and entry["record_bytes"] > 5000
    assert entry["record"] == json.dumps(bad, separators=(",", ":"))[:1000]


def test_a_clean_run_writes_no_file(tmp_path: Path) -> None:
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "seal-tools", [_queries(tmp_path / "in", GOOD)],
                        quarantine=tmp_path / "q.jsonl")
    assert report.rejected == 0 and not (tmp_path / "q.jsonl").exists()


def test_the_report_keeps_a_bounded_sample(tmp_path: Path) -> None:
    folder = _queries(tmp_path / "in", *([{"id": 1}] * 250), GOOD)
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "seal-tools", [folder], quarantine=tmp_path / "q.jsonl")
    assert (report.rejected, len(report.quarantined), report.traces) == (250, 100, 1)
    assert len(_lines(tmp_path / "q.jsonl")) == 250


def test_each_entry_is_one_line_whatever_the_record_holds(tmp_path: Path) -> None:
    """Found by the fuzz suite: a record holding U+0085 split its entry for `splitlines`."""
    bad = {"id": "b", "query": 1, "calling": [], "text": "a\u0085b\u2028c\u2029d\ne"}
    folder = _queries(tmp_path / "in", bad)
    with SQLiteCallTreeStore(":memory:") as store:
        ingest(store, "seal-tools", [folder], quarantine=tmp_path / "q.jsonl")
    (entry,) = _lines(tmp_path / "q.jsonl")
    assert json.loads(entry["record"]) == bad
