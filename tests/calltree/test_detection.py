"""Format detection: a file of another format is refused saying what it looks like, and
`--format auto` reads every file as the format it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.calltree.ingest import FORMATS, ingest, sample_file
from coachgraph.calltree.ingest.detect import detect
from coachgraph.calltree.ingest.limits import Limits
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree._inputs import INPUTS, RECORD_FILES, write_input


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    return {fmt: write_input(fmt, root / fmt) for fmt in INPUTS}


def _trace_ids(fmt: str, path: Path) -> list[str]:
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, fmt, [path])
        assert report.quarantined == [] and report.unread == []
        return sorted(store.trace_ids())


def test_every_format_has_an_input_here() -> None:
    assert set(INPUTS) == set(FORMATS)


@pytest.mark.parametrize("fmt", sorted(INPUTS))
def test_each_file_is_detected_as_its_own_format(fmt: str, inputs: dict[str, Path]) -> None:
    folder = inputs[fmt] if inputs[fmt].is_dir() else inputs[fmt].parent
    sample = sample_file(folder / RECORD_FILES[fmt], Limits())
    assert sample is not None
    found = detect(sample)
    assert found is not None and found.name == fmt


@pytest.mark.parametrize("fmt", sorted(INPUTS))
def test_auto_reads_what_the_named_format_reads(fmt: str, inputs: dict[str, Path]) -> None:
    assert _trace_ids("auto", inputs[fmt]) == _trace_ids(fmt, inputs[fmt]) != []


def test_auto_reads_a_folder_of_every_format(inputs: dict[str, Path], tmp_path: Path) -> None:
    for fmt in INPUTS:
        write_input(fmt, tmp_path / fmt)
    (tmp_path / "notes.json").write_text('{"just": "notes"}')
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "auto", [tmp_path])
        stored = set(store.trace_ids())
    expected = {t for fmt, path in inputs.items() for t in _trace_ids(fmt, path)}
    assert stored == expected and report.rejected == 0
    assert set(report.files) == set(FORMATS)
    assert report.unread == [f"{tmp_path / 'notes.json'}: not a trace format coachgraph reads"]


@pytest.mark.parametrize(("fmt", "other"), [(f, o) for f in sorted(INPUTS) for o in sorted(INPUTS)
                                            if f != o])
def test_another_format_is_refused_naming_the_right_one(fmt: str, other: str,
                                                       inputs: dict[str, Path]) -> None:
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, other, [inputs[fmt]])
        assert store.trace_ids() == []
    said = [f"{r.source}: {r.reason}" for r in report.quarantined] + report.unread
    assert any(f"--format {fmt}" in line for line in said), said
    assert any(FORMATS[fmt].title in line for line in said), said


def test_the_message_says_what_the_file_looks_like(inputs: dict[str, Path]) -> None:
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "who-and-when", [inputs["otlp-json"]])
    (rejected,) = report.quarantined
    assert rejected.source == str(inputs["otlp-json"])
    assert rejected.reason == ("this looks like OTLP/JSON spans (OpenTelemetry GenAI), not "
                               "who-and-when; read it with --format otlp-json (or --format auto)")
    assert rejected.record is not None and rejected.record.startswith('{"resourceSpans"')


def test_a_folder_without_the_format_says_what_it_holds(inputs: dict[str, Path]) -> None:
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "adp", [inputs["who-and-when"]])
    assert report.traces == report.rejected == 0
    assert report.unread == [
        f"{inputs['who-and-when']}: no adp input here (looked for sample_std.json); it holds "
        "a Who&When log: read it with --format who-and-when (or --format auto)"]


def test_a_file_of_no_known_shape_is_read_and_its_fields_named(tmp_path: Path) -> None:
    file = tmp_path / "log.json"
    file.write_text('{"question": "q", "history": [{"speaker": "a"}]}')
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, "who-and-when", [file])
    assert [r.reason for r in report.quarantined] == [
        "$.history[0].role: required field is missing (and 1 more)"]
