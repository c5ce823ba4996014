"""A span as every span reader sees it, and its decoding from OTLP/JSON and flat span records.

Decoding checks every field it reads and names a bad one by its JSON path under the span
(`FieldError`), with the type it should have; nothing is converted into a value it did not
have (a `boolValue` of `"false"` is an error, not `True`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from coachgraph.calltree.ingest.base import FieldError, Sample, wrong

__all__ = ["RawSpan", "any_value", "attribute_keys", "hex_id", "otlp_span", "sampled_span_keys",
           "span_from_flat", "span_from_otlp"]

_STATUS_CODES: dict[Any, str] = {
    0: "unset", 1: "ok", 2: "error", "STATUS_CODE_UNSET": "unset", "STATUS_CODE_OK": "ok",
    "STATUS_CODE_ERROR": "error", "UNSET": "unset", "OK": "ok", "ERROR": "error",
}
_MAX_U64, _MAX_I64 = 2**64 - 1, 2**63 - 1
_NS = "nanoseconds since the epoch (an unsigned 64-bit integer or its decimal string)"


@dataclass(slots=True)
class RawSpan:
    """The convention-independent part of a span, with attributes decoded to plain values.

    A plain slotted class checked by hand: a large file holds hundreds of thousands of spans,
    and these few checks are all a span needs before its convention maps it to a `CallNode`
    (which pydantic validates in full).
    """

    trace_id: str
    span_id: str
    parent_id: str | None = None
    name: str = ""
    start_ns: int | None = None
    end_ns: int | None = None
    status: str = "unset"
    status_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    order: int = 0

    def __post_init__(self) -> None:
        for name in ("trace_id", "span_id"):
            value = getattr(self, name)
            if type(value) is not str or not value:
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        for name in ("parent_id", "status_message"):
            value = getattr(self, name)
            if value is not None and type(value) is not str:
                raise ValueError(f"{name} must be a string, not {value!r}")
        if type(self.name) is not str:
            raise ValueError(f"name must be a string, not {self.name!r}")


def _text(value: Any) -> str:
    if type(value) is not str:
        raise wrong("$", "a string", value)
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise wrong("$", "true or false", value)
    return value


def _int(value: Any) -> int:
    """An OTLP `intValue`: a 64-bit integer, written as a number or (proto3 JSON) a string."""
    text = value.removeprefix("-") if type(value) is str else None
    if (type(value) is int or (text and text.isascii() and text.isdigit() and len(text) <= 19)) \
            and -_MAX_I64 - 1 <= int(value) <= _MAX_I64:
        return int(value)
    raise wrong("$", "a 64-bit integer (or its decimal string)", value)


def _double(value: Any) -> float:
    if type(value) in (int, float) or value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    raise wrong("$", "a number", value)


def _bytes(value: Any) -> str:
    try:
        return base64.b64decode(_text(value), validate=True).hex()
    except binascii.Error:
        raise wrong("$", "base64 text", value) from None


def _values(value: Any) -> list[Any]:
    """The `values` list of an `arrayValue` or `kvlistValue` object."""
    if type(value) is not dict:
        raise wrong("$", "an object", value)
    values = value.get("values", [])
    if type(values) is not list:
        raise wrong("$.values", "an array", values)
    return values


def _array(value: Any) -> list[Any]:
    decoded = []
    for index, item in enumerate(_values(value)):
        try:
            decoded.append(any_value(item))
        except FieldError as exc:
            raise exc.under(f".values[{index}]") from None
    return decoded


def _kvlist_value(value: Any) -> dict[str, Any]:
    try:
        return _kvlist(_values(value))
    except FieldError as exc:
        raise exc.under(".values") from None


def _kvlist(values: Any) -> dict[str, Any]:
    """Decode an OTLP/JSON attribute list (`[{"key": ..., "value": AnyValue}]`) into a dict."""
    if type(values) is not list:
        raise wrong("$", "an array of {key, value} objects", values)
    decoded = {}
    for index, kv in enumerate(values):
        try:
            key, value = _key_value(kv)
        except FieldError as exc:
            raise exc.under(f"[{index}]") from None
        # Most attributes are plain strings: take them without the general dispatch.
        string = value.get("stringValue")
        if type(string) is str:
            decoded[key] = string
            continue
        try:
            decoded[key] = any_value(value)
        except FieldError as exc:
            raise exc.under(f"[{index}].value") from None
    return decoded


def _key_value(kv: Any) -> tuple[str, dict[str, Any]]:
    if type(kv) is not dict:
        raise wrong("$", "a {key, value} object", kv)
    key, value = kv.get("key"), kv.get("value", {})
    if type(key) is not str:
        raise wrong("$.key", "a string", key)
    if type(value) is not dict:
        raise wrong("$.value", "an AnyValue object", value)
    return key, value


_ANY_VALUE: dict[str, Callable[[Any], Any]] = {
    "stringValue": _text,
    "boolValue": _bool,
    "intValue": _int,
    "doubleValue": _double,
    "bytesValue": _bytes,
    "arrayValue": _array,
    "kvlistValue": _kvlist_value,
}
"""The `AnyValue` fields in order of precedence, each with its decoder."""


def any_value(value: dict[str, Any]) -> Any:
    """Decode an OTLP/JSON `AnyValue` (`{"stringValue": ...}`, `{"intValue": "3"}`, ...).

    A value holds one field; should it hold several, the first set one in `_ANY_VALUE`'s order
    wins (a null field counts as unset), and unknown fields are ignored as OTLP readers must.

    >>> any_value({"intValue": "3"}), any_value({"arrayValue": {"values": [{"boolValue": True}]}})
    (3, [True])
    """
    if type(value) is not dict:
        raise wrong("$", "an AnyValue object", value)
    for key, decode in _ANY_VALUE.items():
        raw = value.get(key)
        if raw is not None:
            try:
                return decode(raw)
            except FieldError as exc:
                raise exc.under(f".{key}") from None
    return None


def _ns(value: Any, where: str) -> int | None:
    """Nanoseconds since the epoch (0 and absent mean unknown), within OTLP's fixed64."""
    if value is None or value == "" or (type(value) is int and value == 0) or value == "0":
        return None
    if (type(value) is int or (type(value) is str and value.isascii() and value.isdigit()
                               and len(value) <= 20)) and 0 < int(value) <= _MAX_U64:
        return int(value)
    raise wrong(where, _NS, value)


def _iso_ns(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
    except (ValueError, FieldError):
        raise wrong(where, "an ISO 8601 time", value) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def hex_id(value: Any) -> str | None:
    """A trace or span id without the `0x` some exporters write; None when absent."""
    return str(value).removeprefix("0x") if value not in (None, "") else None


def _id(value: Any, where: str) -> str:
    if type(value) is not str or not value.removeprefix("0x"):
        raise wrong(where, "a non-empty string (a hex id)", value)
    return value.removeprefix("0x")


def _optional_id(value: Any, where: str) -> str | None:
    return None if value is None or value == "" else _id(value, where)


def _optional_text(value: Any, where: str) -> str | None:
    if value is not None and type(value) is not str:
        raise wrong(where, "a string", value)
    return value


def _status(value: Any, where: str) -> str:
    if type(value) not in (int, str) or value not in _STATUS_CODES:
        raise wrong(where, "a status code (0, 1, 2 or STATUS_CODE_UNSET, _OK, _ERROR)", value)
    return _STATUS_CODES[value]


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise wrong(where, "an object", value)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise wrong(where, "an array", value)
    return value


def otlp_span(
    trace_id: str, span_id: str, parent_id: Any, name: str, start: Any, end: Any, code: Any,
    message: str | None, order: int, attributes: dict[str, Any], events: list[dict[str, Any]],
) -> RawSpan:
    """A span from the fields of an OTLP span, as decoded by either OTLP/JSON reader."""
    return RawSpan(trace_id=_id(trace_id, "$.traceId"), span_id=_id(span_id, "$.spanId"),
                   parent_id=_optional_id(parent_id, "$.parentSpanId"),
                   name=_optional_text(name, "$.name") or "",
                   start_ns=_ns(start, "$.startTimeUnixNano"),
                   end_ns=_ns(end, "$.endTimeUnixNano"), status=_status(code, "$.status.code"),
                   status_message=_optional_text(message, "$.status.message") or None,
                   order=order, attributes=attributes, events=events)


def _under(prefix: str, decode: Callable[[], Any]) -> Any:
    try:
        return decode()
    except FieldError as exc:
        raise exc.under(prefix) from None


def _otlp_event(raw: Any) -> dict[str, Any]:
    raw = _object(raw, "$")
    return {"name": _optional_text(raw.get("name", ""), "$.name") or "",
            "attributes": _under(".attributes", lambda: _kvlist(raw.get("attributes", [])))}


def span_from_otlp(raw: dict[str, Any], order: int) -> RawSpan:
    """A span of an OTLP/JSON `ExportTraceServiceRequest`, from its parsed JSON."""
    if type(raw) is not dict:
        raise wrong("$", "a span object", raw)
    status = _object(raw.get("status"), "$.status")
    events = _list(raw.get("events"), "$.events")
    return otlp_span(
        raw.get("traceId"), raw.get("spanId"), raw.get("parentSpanId"), raw.get("name", ""),
        raw.get("startTimeUnixNano"), raw.get("endTimeUnixNano"), status.get("code", 0),
        status.get("message"), order,
        _under(".attributes", lambda: _kvlist(_list(raw.get("attributes"), "$"))),
        [_under(f".events[{i}]", lambda e=e: _otlp_event(e)) for i, e in enumerate(events)],
    )


def _flat_event(raw: Any) -> dict[str, Any]:
    raw = _object(raw, "$")
    return {"name": _optional_text(raw.get("name", ""), "$.name") or "",
            "attributes": dict(_object(raw.get("attributes"), "$.attributes"))}


def span_from_flat(raw: dict[str, Any], order: int) -> RawSpan:
    """A span as the OTel SDK console exporter and Phoenix write it (`context`, ISO times)."""
    if type(raw) is not dict:
        raise wrong("$", "a span object", raw)
    context = raw.get("context")
    if type(context) is not dict:
        raise wrong("$.context", "an object with trace_id and span_id", context)
    status = _object(raw.get("status"), "$.status")
    events = _list(raw.get("events"), "$.events")
    return RawSpan(
        trace_id=_id(context.get("trace_id"), "$.context.trace_id"),
        span_id=_id(context.get("span_id"), "$.context.span_id"),
        parent_id=_optional_id(raw.get("parent_id"), "$.parent_id"),
        name=_optional_text(raw.get("name", ""), "$.name") or "",
        start_ns=_iso_ns(raw.get("start_time"), "$.start_time"),
        end_ns=_iso_ns(raw.get("end_time"), "$.end_time"),
        status=_status(status.get("status_code", "UNSET"), "$.status.status_code"),
        status_message=_optional_text(status.get("description"), "$.status.description") or None,
        order=order, attributes=dict(_object(raw.get("attributes"), "$.attributes")),
        events=[_under(f".events[{i}]", lambda e=e: _flat_event(e)) for i, e in enumerate(events)],
    )


def sampled_span_keys(sample: Sample) -> set[str] | None:
    """The attribute names of a file's first span, or None when the file does not hold spans
    (OTLP/JSON envelopes, or flat span records with a `context`)."""
    record = sample.record
    if sample.layout == "spans" or (sample.layout in ("array", "lines") and isinstance(
            record, dict) and isinstance(record.get("context"), dict)):
        return attribute_keys(record)
    return None


def attribute_keys(raw: Any) -> set[str]:
    """The attribute names of a raw span, OTLP/JSON (a key list) or flat (an object)."""
    attributes = raw.get("attributes") if isinstance(raw, dict) else None
    if isinstance(attributes, dict):
        return {str(k) for k in attributes}
    if isinstance(attributes, list):
        return {kv["key"] for kv in attributes if isinstance(kv, dict)
                and isinstance(kv.get("key"), str)}
    return set()
