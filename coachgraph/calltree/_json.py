"""One JSON parser for the calling-tree readers: orjson's speed, the standard library's results,
and a bound on nesting depth checked while parsing, before anything deeper is built."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from coachgraph.errors import InputError, InputLimitError

__all__ = ["MAX_DEPTH", "depth", "loads"]

MAX_DEPTH = 128
"""Default bound on nesting depth. Stored records are read back by pydantic, whose JSON parser
stops at about 200 levels, so nothing deeper than this (plus the few levels a stored calling
tree wraps around a value) may be stored."""

_ORJSON_DEPTH = 1024
"""orjson refuses documents nested deeper than this (documented; `tests/calltree` checks it)."""


def depth(value: Any) -> int:
    """How many arrays and objects nest at the deepest point of a parsed value.

    >>> depth(1), depth([]), depth({"a": [1, {"b": None}]})
    (0, 1, 3)
    """
    return _inspect(value)[0]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _inspect(value: Any) -> tuple[int, bool]:
    """The depth of a parsed value, and whether a string in it holds an unpaired surrogate."""
    deepest, lone, stack = 0, False, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            lone = lone or _SURROGATE.search(item) is not None
            continue
        children = (list(item) + list(item.values()) if isinstance(item, dict)
                    else item if isinstance(item, list) else None)
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children
                     if isinstance(child, dict | list | str))
    return deepest, lone


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON nested at most `max_depth` levels; deeper input raises `InputLimitError`.

    orjson stops at 1024 levels while parsing; wrapping the text in `1024 - max_depth` arrays
    moves that stop to `max_depth`, so the bound costs nothing on well-formed input and nothing
    deeper is ever built. What orjson refuses for other reasons (NaN, Infinity, integers beyond
    64 bits, or invalid text) goes to `json.loads`, which raises `JSONDecodeError` with line and
    column for invalid text; its result is checked against the bound, and refused
    (`InputError`) should a string in it hold an unpaired surrogate, which no store can hold.

    >>> loads('{"a": [1, 2.5, "x"]}')
    {'a': [1, 2.5, 'x']}
    >>> loads("[[[]]]", max_depth=2)
    Traceback (most recent call last):
    coachgraph.errors.InputLimitError: nested deeper than 2 levels (the depth limit)
    """
    data = text.encode() if isinstance(text, str) else bytes(text)
    if len(data) <= _SMALL and data.count(b"[") + data.count(b"{") <= max_depth:
        return _fallback(data, max_depth) if (value := _orjson(data)) is _FAILED else value
    pad = _ORJSON_DEPTH - max_depth
    value = _orjson(b"[" * pad + data + b"]" * pad)
    if value is _FAILED:
        return _fallback(data, max_depth)
    for _ in range(pad):
        if type(value) is not list or len(value) != 1:
            return _fallback(data, max_depth)
        value = value[0]
    return value


_FAILED = object()
_SMALL = 1 << 16
"""Texts up to this size are first checked for fewer brackets than the bound (nesting needs
one per level); larger ones nearly always have more, and go straight to the padded parse."""


def _orjson(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _FAILED


def _fallback(data: bytes, max_depth: int) -> Any:
    """`json.loads`, for what orjson refuses; its result is held to the same rules: within the
    depth bound, and text only (an escaped lone surrogate, `"\\ud800"`, is no character)."""
    try:
        value = json.loads(data)
    except RecursionError:
        value, deepest, lone = None, max_depth + 1, False
    else:
        deepest, lone = _inspect(value)
    if deepest > max_depth:
        raise InputLimitError(f"nested deeper than {max_depth} levels (the depth limit)",
                              limit="max_depth")
    if lone:
        raise InputError("a string holds an unpaired surrogate escape (\\ud800 to \\udfff), "
                         "which is not text")
    return value
