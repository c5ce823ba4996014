"""Property-based fuzzing of every ingest format, meant to run in a child with capped memory.

Structure-aware inputs: each input layout's small valid input (`_inputs.SHAPES`: every format's
own, and the layouts tracing clients write) with one value replaced, or
one member added, by something hostile: nesting up to 400,000 levels, strings up to 900 KB of
awkward characters (escapes, surrogates, NUL, emoji), arrays and objects of 100,000s of
members, values of the wrong type, nulls, huge or non-finite numbers, records repeated up to
1 MB, and files cut or spliced at random bytes. Every input stays at most 1 MB.

Each run ingests the hostile input and then an untouched copy of the valid one; it must end
normally, store every trace of the valid copy exactly, and reject only records of the hostile
input, each with a place and a reason, into the quarantine file. The worker prints one JSON
line: examples run per layout, the failures (with the falsifying example) and its peak
resident size.

    python -m tests.calltree.fuzz_worker --examples 20 [--shapes adp,nestful] [--explore]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import traceback
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.schema import CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree._inputs import SHAPES, write_shape
from tests.calltree.peak import peak_rss

__all__ = ["main", "payloads"]

MAX_INPUT = 1_000_000
_PLACE = "\u0000fuzz-payload\u0000"

_SCALARS = ["null", "true", "false", "0", "-1", "1.5", "1e400", "-1e400", "NaN", "Infinity",
            "123456789012345678901234567890", '""', '"text"', '"\\u0000"', '"\\ud800"', "[]",
            "{}", "[null]", '{"a": null}', '"1700000000000000000"', '"0x"', '"-5"']
_CHARS = ["x", "\u00e9", "\u6f22", "\U0001f642", '\\"', "\\\\", "\\u0000", "]}", ",", "\\ud83d"]
_FILL = ["0", "null", "{}", "[]", '""', '{"key": "k", "value": {}}']


def _deep(levels: int, opener: str, closer: str, leaf: str = "1") -> str:
    return opener * levels + leaf + closer * levels


def payloads() -> st.SearchStrategy[str]:
    """JSON texts of hostile values, each at most about 900 KB."""
    depth = st.sampled_from([129, 161, 1_000, 5_000, 50_000, 400_000])
    return st.one_of(
        st.sampled_from(_SCALARS),
        st.text(max_size=40).map(json.dumps),
        depth.map(lambda d: _deep(d, "[", "]", "")),
        depth.map(lambda d: _deep(min(d, 150_000), '{"a":', "}")),
        depth.map(lambda d: _deep(min(d, 100_000), '[{"k":', "}]")),
        st.builds(lambda c, n: '"' + c * (n // len(c)) + '"', st.sampled_from(_CHARS),
                  st.sampled_from([1_000, 100_000, 600_000, 900_000])),
        st.builds(lambda e, k: "[" + ",".join([e] * k) + "]", st.sampled_from(_FILL),
                  st.sampled_from([10, 10_000, 30_000])),
        st.sampled_from([100, 50_000]).map(
            lambda k: "{" + ",".join(f'"k{i}": {i}' for i in range(k)) + "}"),
    )


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a parsed input: its own, and those of its members, recursively."""
    found = [at]
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, child in items:
        found.extend(_paths(child, (*at, key)))
    return found


def _put(content: Any, path: tuple[Any, ...], mode: str) -> Any:
    """`content` with the placeholder at `path` (replacing it, or in a member added there)."""
    if not path:
        return _PLACE if mode == "replace" else content
    parent = content
    for key in path[:-1]:
        parent = parent[key]
    target = parent[path[-1]]
    if mode == "add" and isinstance(target, dict):
        target["fuzz_added"] = _PLACE
    elif mode == "repeat" and isinstance(target, list) and target:
        parent[path[-1]] = target * max(1, MAX_INPUT // 4 // max(len(json.dumps(target)), 1))
    else:
        parent[path[-1]] = _PLACE
    return content


def _render(shape: str, content: Any, payload: str) -> str:
    placeholder = json.dumps(_PLACE)
    if SHAPES[shape].record_file.endswith(".jsonl"):
        text = "".join(json.dumps(line) + "\n" for line in content)
    else:
        text = json.dumps(content)
    return text.replace(placeholder, payload, 1)


@st.composite
def hostile(draw: st.DrawFn, shape: str, content: Any) -> bytes:
    """A hostile version of a layout's record file (its parsed `content`), at most 1 MB."""
    fresh = json.loads(json.dumps(content))
    path = draw(st.sampled_from(_paths(fresh)))
    mode = draw(st.sampled_from(["replace", "replace", "add", "repeat"]))
    text = _render(shape, _put(fresh, path, mode), draw(payloads())).encode()
    damage = draw(st.sampled_from(["none", "none", "none", "cut", "splice"]))
    at = draw(st.integers(0, max(len(text) - 1, 0)))
    if damage == "cut":
        text = text[:at]
    elif damage == "splice":
        text = text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at + 4:]
    return text[:MAX_INPUT]


def _read(shape: str, folder: Path) -> Any:
    text = (folder / SHAPES[shape].record_file).read_text(encoding="utf-8")
    if SHAPES[shape].record_file.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines()]
    return json.loads(text)


_SEEN: dict[str, list[int]] = {}
"""Per layout: how many inputs were run, their total and largest size, and rejections."""


def _run(shape: str, hostile_bytes: bytes, good: dict[str, CallTree]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        bad = write_shape(shape, root / "bad")
        bad_folder = bad if bad.is_dir() else bad.parent
        (bad_folder / SHAPES[shape].record_file).write_bytes(hostile_bytes)
        clean = write_shape(shape, root / "good")
        quarantine = root / "q.jsonl"
        with SQLiteCallTreeStore(":memory:") as store:
            report = ingest(store, SHAPES[shape].format, [bad, clean], quarantine=quarantine)
            for trace_id, tree in good.items():
                assert store.get_tree(trace_id) == tree, f"good trace {trace_id} not stored"
        seen = _SEEN.setdefault(shape, [0, 0, 0, 0])
        seen[0] += 1
        seen[1] += len(hostile_bytes)
        seen[2] = max(seen[2], len(hostile_bytes))
        seen[3] += report.rejected
        lines = quarantine.read_text(encoding="utf-8").splitlines() if quarantine.exists() else []
        assert len(lines) == report.rejected
        for rejected in report.quarantined:
            assert rejected.source.startswith(str(bad_folder)), rejected
            assert rejected.reason and "reader failed" not in rejected.reason, rejected


def _property(shape: str, examples: int, explore: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_shape(shape, Path(scratch) / "good")
        with SQLiteCallTreeStore(":memory:") as store:
            ingest(store, SHAPES[shape].format, [folder])
            good = {tree.trace_id: tree for tree in store.iter_trees()}
        content = _read(shape, folder if folder.is_dir() else folder.parent)

    @settings(max_examples=examples, deadline=None, derandomize=not explore, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=hostile(shape, content))
    def check(data: bytes) -> None:
        _run(shape, data, good)

    check()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Fuzz the chosen layouts; print and return the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20, help="examples per layout")
    parser.add_argument("--shapes", default=",".join(sorted(SHAPES)),
                        help="input layouts (`_inputs.SHAPES`), comma-separated")
    parser.add_argument("--explore", action="store_true",
                        help="draw new examples each run (by default the same ones, as in CI)")
    args = parser.parse_args(argv)
    failures: dict[str, str] = {}
    for shape in args.shapes.split(","):
        try:
            _property(shape, args.examples, args.explore)
        except Exception:  # the falsifying example and its traceback are the report
            failures[shape] = traceback.format_exc()[-4000:]
    summary = {"shapes": args.shapes.split(","), "examples": args.examples,
               "failures": failures, "inputs": {shape: dict(zip(
                   ("runs", "bytes", "largest", "rejected"), seen, strict=True))
                   for shape, seen in _SEEN.items()},
               "maxrss": peak_rss()}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
