"""One JSON parser for the calling-tree readers: orjson's speed, the standard library's results."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["loads"]


def loads(text: str | bytes) -> Any:
    """Parse JSON with orjson, falling back to `json.loads` for what only it accepts.

    The standard library also reads NaN, Infinity and integers beyond 64 bits; falling back
    keeps every document parsing exactly as before, and a document neither reads raises the
    standard library's `JSONDecodeError` with its line and column.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
