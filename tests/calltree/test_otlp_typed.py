"""The typed OTLP/JSON fast path reads exactly what the generic reader reads, or declines."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from coachgraph.calltree.ingest._otlp_typed import typed_spans
from coachgraph.calltree.ingest._raw_span import RawSpan, span_from_otlp
from coachgraph.calltree.ingest._spans import _records
from coachgraph.calltree.ingest.base import Rejected
from coachgraph.calltree.ingest.limits import Limits

LIMITS = Limits()

_text = st.text(max_size=12)
_ids = st.text("0123456789abcdef", min_size=1, max_size=16)

_scalar_values = st.one_of(
    st.builds(lambda v: {"stringValue": v}, _text),
    st.builds(lambda v: {"boolValue": v}, st.booleans()),
    st.builds(lambda v: {"intValue": v}, st.integers(-(2**62), 2**62)),
    st.builds(lambda v: {"intValue": str(v)}, st.integers(-(2**62), 2**62)),
    st.builds(lambda v: {"doubleValue": v}, st.floats(allow_nan=False, allow_infinity=False)),
    st.builds(lambda v: {"bytesValue": base64.b64encode(v).decode()}, st.binary(max_size=8)),
    st.just({}),
)
"""Well-formed `AnyValue`s without nesting."""

_odd_values = st.one_of(
    st.just({"intValue": "3", "stringValue": "x"}),
    st.just({"stringValue": None, "intValue": 7}),
    st.just({"stringValue": 5}),
    st.just({"boolValue": "false"}),
    st.just({"intValue": "seven"}),
    st.just({"doubleValue": "1.5"}),
    st.just({"bytesValue": "%%%"}),
    st.just({"futureValue": 1}),
    st.just(None),
)
"""Values the OTLP schema does not allow, or allows only oddly: both readers must agree on them."""


def _values(odd: bool) -> st.SearchStrategy[Any]:
    base = st.one_of(_scalar_values, _odd_values) if odd else _scalar_values
    return st.recursive(base, lambda inner: st.one_of(
        st.builds(lambda vs: {"arrayValue": {"values": vs}}, st.lists(inner, max_size=3)),
        st.builds(lambda kvs: {"kvlistValue": {"values": kvs}},
                  st.lists(st.builds(lambda k, v: {"key": k, "value": v}, _text, inner), max_size=3)),
    ), max_leaves=6)


def _spans(odd: bool) -> st.SearchStrategy[dict[str, Any]]:
    attributes = st.lists(st.builds(lambda k, v: {"key": k, "value": v}, _text, _values(odd)), max_size=5)
    status = st.one_of(st.none(), st.builds(lambda c, m: {"code": c, "message": m},
                                            st.sampled_from([0, 1, 2, "STATUS_CODE_ERROR", "OK"]),
                                            st.one_of(st.none(), _text)))
    times = st.one_of(st.none(), st.just("0"), st.integers(0, 2**62), st.integers(0, 2**62).map(str))
    return st.fixed_dictionaries(
        {"traceId": _ids, "spanId": _ids},
        optional={"parentSpanId": st.one_of(st.none(), st.just(""), _ids.map(lambda i: "0x" + i)),
                  "name": _text, "startTimeUnixNano": times, "endTimeUnixNano": times,
                  "status": status, "attributes": attributes, "kind": st.integers(0, 5),
                  "events": st.lists(st.fixed_dictionaries({"name": _text, "attributes": attributes}),
                                     max_size=2)},
    )


def _document(odd: bool) -> st.SearchStrategy[dict[str, Any]]:
    scopes = st.lists(st.fixed_dictionaries({"spans": st.lists(_spans(odd), max_size=4)}), max_size=2)
    return st.builds(lambda rs: {"resourceSpans": rs},
                     st.lists(st.fixed_dictionaries({"scopeSpans": scopes}), min_size=1, max_size=3))


def _generic(path: Path) -> list[RawSpan] | None:
    """What the generic reader makes of every span, or None when it rejects any."""
    spans = []
    for order, (_, raw, _) in enumerate(_records(path, LIMITS)):
        if isinstance(raw, Rejected):
            return None
        try:
            spans.append(span_from_otlp(raw, order))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
    return spans


def _both(document: dict[str, Any]) -> tuple[list[RawSpan] | None, list[RawSpan] | None]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spans.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return typed_spans(path, LIMITS), _generic(path)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(document=_document(odd=False))
def test_well_formed_files_take_the_fast_path_and_read_the_same(document: dict[str, Any]) -> None:
    typed, generic = _both(document)
    if generic is None:  # e.g. an unknown status code: the generic reader rejects, the fast path declines
        assert typed is None
        return
    assert typed == generic


@settings(max_examples=150, deadline=None, derandomize=True)
@given(document=_document(odd=True))
def test_odd_values_read_the_same_or_fall_back(document: dict[str, Any]) -> None:
    typed, generic = _both(document)
    assert typed is None or typed == generic


def test_a_value_with_several_fields_reads_by_precedence() -> None:
    attributes = [{"key": "a", "value": {"intValue": "3", "stringValue": "x"}},
                  {"key": "b", "value": {"stringValue": None, "intValue": 7}},
                  {"key": "c", "value": {"futureValue": 1}}]
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "t", "spanId": "s", "attributes": attributes}]}]}]}
    typed, generic = _both(document)
    assert typed is not None and generic is not None
    assert typed[0].attributes == generic[0].attributes == {"a": "x", "b": 7, "c": None}


def test_a_malformed_span_leaves_the_file_to_the_generic_reader() -> None:
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "t", "spanId": "s", "attributes": [{"key": "n", "value": {"intValue": "seven"}}]}]}]}]}
    typed, generic = _both(document)
    assert typed is None and generic is None
