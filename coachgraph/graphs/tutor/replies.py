"""What a learner's reply asks for: an answer, a hint, the worked solution, or the end.

Clients may send ``{"kind": ..., "text": ...}`` or plain text; plain text is read by keyword
(``hint``, ``solution``, ``end``, with or without a leading ``/``), and text without any number
is taken as a request for help rather than as a wrong answer.
"""

from __future__ import annotations

import re
from typing import Any

from coachgraph.errors import InputError

__all__ = ["KINDS", "MAX_REPLY_CHARS", "parse_reply"]

KINDS = ("answer", "hint", "solution", "end")
"""Kinds of reply."""

MAX_REPLY_CHARS = 4000
"""Longest reply accepted."""

_KEYWORDS = {
    "hint": {"hint", "help", "?", "i don't know", "i dont know", "idk", "no idea"},
    "solution": {"solution", "show solution", "show me", "give up", "i give up"},
    "end": {"end", "bye", "goodbye", "stop"},
}
_DIGIT = re.compile(r"\d")


def parse_reply(raw: Any) -> dict[str, str]:
    """The reply as ``{"kind", "text"}``.

    >>> parse_reply("82"), parse_reply("/hint")["kind"], parse_reply("no clue")["kind"]
    ({'kind': 'answer', 'text': '82'}, 'hint', 'hint')
    >>> parse_reply({"kind": "end"})
    {'kind': 'end', 'text': ''}

    Raises:
        InputError: a reply of another type, an unknown kind, or one over `MAX_REPLY_CHARS`.
    """
    if isinstance(raw, dict):
        text, kind = raw.get("text", ""), raw.get("kind")
    elif isinstance(raw, str):
        text, kind = raw, None
    else:
        raise InputError(f"a reply is text or {{'kind', 'text'}}, not {type(raw).__name__}", source="reply")
    if not isinstance(text, str) or len(text) > MAX_REPLY_CHARS:
        raise InputError(f"reply text must be a string of at most {MAX_REPLY_CHARS} characters", source="reply.text")
    text = text.strip()
    if kind is None:
        kind = _kind_of(text)
    if kind not in KINDS:
        raise InputError(f"unknown reply kind {kind!r}; known: {', '.join(KINDS)}", source="reply.kind")
    return {"kind": kind, "text": text}


def _kind_of(text: str) -> str:
    said = text.lower().lstrip("/").strip().rstrip(".!")
    for kind, words in _KEYWORDS.items():
        if said in words:
            return kind
    return "answer" if _DIGIT.search(text) else "hint"
