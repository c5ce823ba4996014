"""The answer-leak guard: no hint or explanation for an unsolved problem states its final answer.

Good tutors ask guiding questions and do not give the answer away (Tutor CoPilot); a small
model writing hints does not reliably hold back. So every teacher message for a problem the
learner has not solved passes through `AnswerGuard`, whatever wrote it. The guard works on a
stream: it lets text through a word at a time, holds back a word that may still grow (``8`` may
become ``82``) and a run of number words (``eighty`` may become ``eighty-two``), and replaces any
number equal to the answer, in digits or in words, with ``?``. What it lets through can never be
taken back, so it redacts in place rather than dropping a message already half shown; the teacher
then adds a guiding question of its own after a message that needed redacting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coachgraph.tasks import normalize_number

__all__ = ["AnswerGuard", "GuardedText", "guard_text", "leaks_answer", "words_to_number"]

_NUMBER = re.compile(r"-?\$?\d+(?:,\d{3})*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z]+")
_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES)
_PARTS = re.compile(r"(?<=[A-Za-z])(?=[^A-Za-z])|(?<=[^A-Za-z])(?=[A-Za-z])|(?=\?)|(?<=\?)")
"""Where a word begins or ends, and around each ``?``: the guard reads a piece part by part, so
that a run of number words ends exactly where `leaks_answer` ends it (a number in digits or a
masked one ends it, so masking ``124`` in ``hundred124twenty`` cannot join the words around it)."""
_TOKEN = re.compile(r"[A-Za-z]+|\d+|\?")
MASK = "?"


def words_to_number(words: list[str]) -> int | None:
    """The integer a run of English number words names (None if it names none).

    >>> words_to_number(["two", "hundred", "and", "eighty", "two"]), words_to_number(["eighty", "two"])
    (282, 82)
    >>> words_to_number(["and"]) is None
    True
    """
    total, current, seen = 0, 0, False
    for word in (w.lower() for w in words):
        if word in _UNITS or word in _TENS:
            current += _UNITS.get(word, 0) + _TENS.get(word, 0)
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total, current = total + max(current, 1) * _SCALES[word], 0
        elif word != "and":
            return None
        seen = seen or word != "and"
    return total + current if seen else None


def _answer_key(answer: str) -> tuple[str | None, int | None]:
    key = normalize_number(answer)
    whole = int(key) if key is not None and key.lstrip("-").isdigit() else None
    return key, whole


def _joins_run(core: str, open_run: bool) -> bool:
    """Whether a part (a word, or what lies between words, without surrounding whitespace)
    belongs to a run of number words: a number word, or whitespace and symbols between number
    words, but never a digit or a ``?``; ``and`` only continues a run."""
    if MASK in core or any(c.isdigit() for c in core):
        return False
    words = [w.lower() for w in _WORD.findall(core)]
    if not words:
        return open_run
    if not all(w in _NUMBER_WORDS or w == "and" for w in words):
        return False
    return open_run or any(w != "and" for w in words)


@dataclass(frozen=True, slots=True)
class GuardedText:
    """A whole message after the guard."""

    text: str
    redactions: int
    """Mentions of the answer that were replaced."""


class AnswerGuard:
    """Streams text with every mention of `answer` replaced by ``?``.

    Example:
        >>> guard = AnswerGuard("82")
        >>> "".join([guard.feed("So 45 + 37 = 8"), guard.feed("2. Or eighty"), guard.feed("-two!"), guard.flush()])
        'So 45 + 37 = ?. Or ?!'
        >>> guard.redactions
        2
    """

    def __init__(self, answer: str) -> None:
        self.key, self.whole = _answer_key(answer)
        self.redactions = 0
        self._pending = ""
        self._run: list[str] = []

    def feed(self, text: str) -> str:
        """The part of everything fed so far that is safe to show now (never shown again)."""
        self._pending += text
        cut = max(self._pending.rfind(" "), self._pending.rfind("\n"), self._pending.rfind("\t"))
        if cut < 0:
            return ""
        complete, self._pending = self._pending[:cut + 1], self._pending[cut + 1:]
        return "".join(self._piece(p) for p in re.findall(r"\S+\s*|\s+", complete))

    def flush(self) -> str:
        """Everything still held back, checked (call once at the end of the message)."""
        rest, self._pending = self._pending, ""
        shown = "".join(self._piece(p) for p in re.findall(r"\S+\s*|\s+", rest))
        return shown + self._close_run()

    def _piece(self, piece: str) -> str:
        """One whitespace-delimited piece, read part by part (see `_PARTS`)."""
        return "".join(self._part(part) for part in _PARTS.split(piece) if part)

    def _part(self, part: str) -> str:
        core = part.strip()
        if _joins_run(core, bool(self._run)):
            self._run.append(part)
            return ""
        return self._close_run() + self._redact(part)

    def _close_run(self) -> str:
        if not self._run:
            return ""
        run, self._run = "".join(self._run), []
        words = [w for w in _WORD.findall(run)]
        if self.whole is not None and words_to_number(words) == self.whole:
            self.redactions += 1
            trailing = re.search(r"[,.!?;:]?\s*$", run)
            return MASK + (trailing.group(0) if trailing else "")
        return run

    def _redact(self, piece: str) -> str:
        def swap(match: re.Match[str]) -> str:
            if self.key is not None and normalize_number(match.group(0)) == self.key:
                self.redactions += 1
                return MASK
            return match.group(0)

        return _NUMBER.sub(swap, piece)


def guard_text(text: str, answer: str) -> GuardedText:
    """A whole message through the guard.

    >>> guard_text("The answer is 1,665, you see.", "1665")
    GuardedText(text='The answer is ?, you see.', redactions=1)
    """
    guard = AnswerGuard(answer)
    shown = guard.feed(text) + guard.flush()
    return GuardedText(shown, guard.redactions)


def leaks_answer(text: str, answer: str) -> bool:
    """Whether `text` states `answer` anywhere, in digits or in number words (an independent check
    of what the guard let through). As for the guard, a run of number words ends at a digit, a
    ``?`` or a word that is not a number word, and nothing else.

    >>> leaks_answer("Try 45 + 37 again.", "82"), leaks_answer("It is eighty-two.", "82")
    (False, True)
    """
    key, whole = _answer_key(answer)
    if key is not None and any(normalize_number(m) == key for m in _NUMBER.findall(text)):
        return True
    if whole is None:
        return False
    runs: list[list[str]] = []
    current: list[str] = []
    for word in _TOKEN.findall(text):
        if word.lower() in _NUMBER_WORDS or (current and word.lower() == "and"):
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    runs += [current] if current else []
    return any(words_to_number(run) == whole for run in runs)
