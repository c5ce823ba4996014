"""Span inputs whose traces lie in several files (one request per file, batches on lines) are
joined within the reading layer's bounds: bytes held count across the files, a bad span
rejects its whole trace wherever its other spans lie, and the layouts tracing clients write
are detected as their format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coachgraph.calltree.ingest import Limits, detect, get_format, ingest, sample_file
from coachgraph.calltree.ingest.base import Rejected
from coachgraph.calltree.ingest.runner import IngestReport
from coachgraph.calltree.schema import CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree._inputs import INPUTS, SHAPES, write_shape

CLIENT_SHAPES = sorted(set(SHAPES) - set(INPUTS))
TRACELOOP_SHAPES = ["otlp-json/requests", "otlp-json/resource-spans.jsonl",
                    "otlp-json/traces-data.jsonl"]


def _ingest(fmt: str, path: Path, limits: Limits | None = None) -> tuple[IngestReport,
                                                                       list[CallTree]]:
    with SQLiteCallTreeStore(":memory:") as store:
        report = ingest(store, fmt, [path], limits=limits)
        return report, sorted(store.iter_trees(), key=lambda t: t.trace_id)


@pytest.mark.parametrize("shape", CLIENT_SHAPES)
def test_each_client_layout_is_detected_and_read_by_auto(shape: str, tmp_path: Path) -> None:
    path = write_shape(shape, tmp_path)
    folder = path if path.is_dir() else path.parent
    sample = sample_file(folder / SHAPES[shape].record_file, Limits())
    found = detect(sample) if sample is not None else None
    assert found is not None and found.name == SHAPES[shape].format
    named, trees = _ingest(SHAPES[shape].format, path)
    auto, auto_trees = _ingest("auto", path)
    assert named.rejected == auto.rejected == 0 and trees == auto_trees != []


def test_a_trace_split_over_files_or_lines_is_one_tree_in_every_layout(tmp_path: Path) -> None:
    stored = [_ingest("otlp-json", write_shape(shape, tmp_path / shape.replace("/", "-")))[1]
              for shape in TRACELOOP_SHAPES]
    assert stored[0] == stored[1] == stored[2]
    split = stored[0][0]
    assert split.trace_id == "7a01" and (split.task, split.session_id) == ("Plan a trip",
                                                                           "thread-1")
    assert [(n.kind, n.agent) for n in split.nodes] == [
        ("chain", None), ("agent", "supervisor"), ("llm", "supervisor"), ("handoff", "supervisor")]


def test_bytes_held_count_across_the_files_of_an_input(tmp_path: Path) -> None:
    folder = write_shape("otlp-json/requests", tmp_path)
    sizes = [f.stat().st_size for f in sorted(folder.glob("*.json"))]
    report, trees = _ingest("otlp-json", folder, Limits(max_held_bytes=max(sizes)))
    assert trees == []
    first, *rest = report.quarantined
    assert first.source.startswith(f"{folder / 'request-1.json'}:") and "--max-held" in first.reason
    assert f"{folder / 'request-0.json'}:trace 7a01" in {r.source for r in rest}
    assert all(r.reason == f"trace may be incomplete: {first.source} cannot be read"
               and r.record for r in rest)
    report, trees = _ingest("otlp-json", folder, Limits(max_held_bytes=sum(sizes)))
    assert report.rejected == 0 and [t.trace_id for t in trees] == ["7a01", "8b02"]


@pytest.mark.parametrize("shape", ["otlp-json/requests", "openinference/traces-data.jsonl"])
def test_read_joins_within_the_readers_limits_as_read_file_does(shape: str,
                                                                tmp_path: Path) -> None:
    """Each file (or line) fits within the held limit, all of them together do not."""
    path = write_shape(shape, tmp_path)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    units = ([f.stat().st_size for f in files] if path.is_dir()
             else [len(line) for line in path.read_bytes().splitlines()])
    tight = Limits(max_held_bytes=max(units))
    reader = get_format(SHAPES[shape].format, tight)
    items = list(reader.read(path))
    assert all(isinstance(item, Rejected) for item in items)
    assert any("--max-held" in item.reason for item in items if isinstance(item, Rejected))
    if len(files) == 1:
        assert list(reader.read_file(path)) == items
    roomy = get_format(SHAPES[shape].format)
    assert not any(isinstance(item, Rejected) for item in roomy.read(path))


def test_a_bad_span_rejects_its_trace_across_files(tmp_path: Path) -> None:
    folder = write_shape("otlp-json/requests", tmp_path)
    file = folder / "request-1.json"
    request = json.loads(file.read_text())
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["startTimeUnixNano"] = "-5"
    file.write_text(json.dumps(request))
    report, trees = _ingest("otlp-json", folder)
    assert [t.trace_id for t in trees] == ["8b02"]
    bad, trace = report.quarantined
    place = f"{file}:$.resourceSpans[0].scopeSpans[0].spans[1]"
    assert bad.source == place and bad.reason.startswith(f"bad span: {place[len(str(file)) + 1:]}")
    assert (trace.source, trace.reason) == (f"{folder / 'request-0.json'}:trace 7a01",
                                            f"trace has unreadable spans: {place}")
    assert trace.record is not None and '"span_id":"c1"' in trace.record


def test_a_file_that_breaks_off_rejects_every_trace_of_the_input(tmp_path: Path) -> None:
    """Its lost spans may belong to any trace, wherever the trace's other spans lie."""
    folder = write_shape("otlp-json/requests", tmp_path)
    cut = folder / "request-2.json"
    cut.write_text('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "8b')
    report, trees = _ingest("otlp-json", folder)
    assert trees == []
    assert [r.source for r in report.quarantined[1:]] == [
        f"{folder / 'request-0.json'}:trace 7a01", f"{folder / 'request-1.json'}:trace 8b02"]
    assert all(str(cut) in r.reason for r in report.quarantined[1:])


def test_a_file_of_the_other_span_format_is_refused_in_a_joined_input(tmp_path: Path) -> None:
    folder = write_shape("otlp-json/requests", tmp_path)
    report, trees = _ingest("openinference", folder)
    assert trees == [] and {r.source for r in report.quarantined} == {
        str(folder / "request-0.json"), str(folder / "request-1.json")}
    assert all("--format otlp-json" in r.reason for r in report.quarantined)
    spans = write_shape("openinference/traces-data.jsonl", tmp_path / "oi")
    report, trees = _ingest("otlp-json", spans)
    assert trees == [] and "--format openinference" in report.quarantined[0].reason


@pytest.mark.parametrize("fmt", ["otlp-json", "langsmith"])
def test_parent_links_in_a_cycle_reject_the_trace(fmt: str, tmp_path: Path) -> None:
    """Read from hostile input, a cycle must neither hang the agent resolution nor be stored."""
    if fmt == "langsmith":
        file = tmp_path / "runs.json"
        file.write_text(json.dumps([
            {"id": "a", "trace_id": "t", "parent_run_id": "b", "name": "x", "run_type": "chain"},
            {"id": "b", "trace_id": "t", "parent_run_id": "a", "name": "y", "run_type": "chain"}]))
    else:
        path = write_shape("otlp-json/resource-spans.jsonl", tmp_path)
        file = path.with_name("cycle.jsonl")
        file.write_text(path.read_text().replace('"parentSpanId": ""', '"parentSpanId": "c3"'))
    report, trees = _ingest(fmt, file)
    assert all(t.trace_id != "7a01" for t in trees) and report.rejected >= 1
    assert any("parent cycle through node" in r.reason for r in report.quarantined
               if isinstance(r, Rejected))
