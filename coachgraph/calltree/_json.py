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

    orjson itself stops at 1024 levels while parsing, so nothing much deeper is ever built,
    and memory stays linear in the text. Within that, the bound is checked the cheaper way for
    the text: a text up to 1 MiB is walked once parsed (unless it is short and holds too few
    brackets to nest that deep); a larger one is parsed wrapped in `1024 - max_depth` arrays,
    which moves orjson's own stop to `max_depth` (a constant cost of a fraction of a
    millisecond, small beside parsing such a text). What orjson refuses for other reasons
    (NaN, Infinity, integers beyond 64 bits, or invalid text) goes to `json.loads`, which
    raises `JSONDecodeError` with line and column for invalid text; its result is held to the
    same bound, and refused (`InputError`) should a string in it hold an unpaired surrogate,
    which no store can hold.

    >>> loads('{"a": [1, 2.5, "x"]}')
    {'a': [1, 2.5, 'x']}
    >>> loads("[[[]]]", max_depth=2)
    Traceback (most recent call last):
    coachgraph.errors.InputLimitError: nested deeper than 2 levels (the depth limit)
    """
    data = text if isinstance(text, str) else bytes(text)
    opening, closing = ("[", "]") if isinstance(data, str) else (b"[", b"]")
    if len(data) <= _WALKED:
        value = _orjson(data)
        if value is _FAILED:
            return _fallback(data, max_depth)
        if _may_nest_deeper(data, max_depth) and not _within(value, max_depth):
            raise _too_deep(max_depth)
        return value
    pad = _ORJSON_DEPTH - max_depth
    value = _orjson(opening * pad + data + closing * pad)
    if value is _FAILED:
        return _fallback(data, max_depth)
    for _ in range(pad):
        if len(value) != 1:
            return _fallback(data, max_depth)
        value = value[0]
    return value


_FAILED = object()
_COUNTED = 1 << 12
"""Texts up to this size are walked only when they hold more brackets than the bound (the
count costs less than the walk); nesting needs a bracket per level."""
_WALKED = 1 << 20
"""Texts up to this size are parsed, then walked for their depth (walking costs a small part
of parsing); larger ones take the padded parse, whose cost does not grow with the text."""


def _may_nest_deeper(data: str | bytes, max_depth: int) -> bool:
    """Whether a text may nest deeper than `max_depth` (each level takes a bracket)."""
    if len(data) <= max_depth:
        return False
    if len(data) > _COUNTED:
        return True
    if isinstance(data, str):
        return data.count("[") + data.count("{") > max_depth
    return data.count(b"[") + data.count(b"{") > max_depth


def _within(value: Any, max_depth: int) -> bool:
    """Whether a parsed value nests at most `max_depth` levels (walked without recursion)."""
    stack = [(value, 1)] if type(value) is dict or type(value) is list else []
    while stack:
        item, level = stack.pop()
        if level > max_depth:
            return False
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                stack.append((child, level + 1))
    return True


def _too_deep(max_depth: int) -> InputLimitError:
    return InputLimitError(f"nested deeper than {max_depth} levels (the depth limit)",
                           limit="max_depth")


def _orjson(data: str | bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _FAILED


def _fallback(data: str | bytes, max_depth: int) -> Any:
    """`json.loads`, for what orjson refuses; its result is held to the same rules: within the
    depth bound, and text only (an escaped lone surrogate, `"\\ud800"`, is no character)."""
    try:
        value = json.loads(data)
    except RecursionError:
        value, deepest, lone = None, max_depth + 1, False
    else:
        deepest, lone = _inspect(value)
    if deepest > max_depth:
        raise _too_deep(max_depth)
    if lone:
        raise InputError("a string holds an unpaired surrogate escape (\\ud800 to \\udfff), "
                         "which is not text")
    return value
