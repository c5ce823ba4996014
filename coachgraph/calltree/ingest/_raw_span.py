"""A span as every span reader sees it, and its decoding from OTLP/JSON and flat span records."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["RawSpan", "any_value", "hex_id", "otlp_span", "span_from_flat", "span_from_otlp"]

_STATUS_CODES: dict[Any, str] = {
    0: "unset", 1: "ok", 2: "error", "STATUS_CODE_UNSET": "unset", "STATUS_CODE_OK": "ok",
    "STATUS_CODE_ERROR": "error", "UNSET": "unset", "OK": "ok", "ERROR": "error",
}


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


def _kvlist(values: list[dict[str, Any]]) -> dict[str, Any]:
    """Decode an OTLP/JSON attribute list (`[{"key": ..., "value": AnyValue}]`) into a dict."""
    decoded = {}
    for kv in values:
        key, value = kv["key"], kv.get("value", {})
        # Most attributes are plain strings: take them without the general dispatch.
        string = value.get("stringValue") if type(value) is dict else None
        decoded[key] = string if type(string) is str else any_value(value)
    return decoded


_ANY_VALUE: dict[str, Callable[[Any], Any]] = {
    "stringValue": str,
    "boolValue": bool,
    "intValue": int,
    "doubleValue": float,
    "bytesValue": lambda v: base64.b64decode(v).hex(),
    "arrayValue": lambda v: [any_value(x) for x in v.get("values", [])],
    "kvlistValue": lambda v: _kvlist(v.get("values", [])),
}
"""The `AnyValue` fields in order of precedence, each with its decoder."""


def any_value(value: dict[str, Any]) -> Any:
    """Decode an OTLP/JSON `AnyValue` (`{"stringValue": ...}`, `{"intValue": "3"}`, ...).

    A value holds one field; should it hold several, the first set one in `_ANY_VALUE`'s order
    wins (a null field counts as unset), and unknown fields are ignored as OTLP readers must.
    """
    for key, decode in _ANY_VALUE.items():
        raw = value.get(key)
        if raw is not None:
            return decode(raw)
    return None


def _ns(value: Any) -> int | None:
    return int(value) if value not in (None, "", 0, "0") else None


def _iso_ns(value: Any) -> int | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def hex_id(value: Any) -> str | None:
    """A trace or span id without the `0x` some exporters write; None when absent."""
    return str(value).removeprefix("0x") if value not in (None, "") else None


def otlp_span(
    trace_id: str, span_id: str, parent_id: Any, name: str, start: Any, end: Any, code: Any,
    message: str | None, order: int, attributes: dict[str, Any], events: list[dict[str, Any]],
) -> RawSpan:
    """A span from the fields of an OTLP span, as decoded by either OTLP/JSON reader."""
    return RawSpan(trace_id=trace_id, span_id=span_id, parent_id=hex_id(parent_id), name=name,
                   start_ns=_ns(start), end_ns=_ns(end), status=_STATUS_CODES[code],
                   status_message=message or None, order=order, attributes=attributes, events=events)


def span_from_otlp(raw: dict[str, Any], order: int) -> RawSpan:
    """A span of an OTLP/JSON `ExportTraceServiceRequest`, from its parsed JSON."""
    status = raw.get("status") or {}
    return otlp_span(
        raw["traceId"], raw["spanId"], raw.get("parentSpanId"), raw.get("name", ""),
        raw.get("startTimeUnixNano"), raw.get("endTimeUnixNano"), status.get("code", 0),
        status.get("message"), order, _kvlist(raw.get("attributes", [])),
        [{"name": e.get("name", ""), "attributes": _kvlist(e.get("attributes", []))}
         for e in raw.get("events", [])],
    )


def span_from_flat(raw: dict[str, Any], order: int) -> RawSpan:
    """A span as the OTel SDK console exporter and Phoenix write it (`context`, ISO times)."""
    context = raw["context"]
    status = raw.get("status") or {}
    return RawSpan(
        trace_id=hex_id(context["trace_id"]) or "", span_id=hex_id(context["span_id"]) or "",
        parent_id=hex_id(raw.get("parent_id")), name=raw.get("name", ""),
        start_ns=_iso_ns(raw.get("start_time")), end_ns=_iso_ns(raw.get("end_time")),
        status=_STATUS_CODES[status.get("status_code", "UNSET")],
        status_message=status.get("description") or None, order=order,
        attributes=dict(raw.get("attributes") or {}),
        events=[{"name": e.get("name", ""), "attributes": dict(e.get("attributes") or {})}
                for e in raw.get("events", [])],
    )
