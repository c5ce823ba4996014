"""Tokenisation for lexical search: identifiers are split, case folded, stop words dropped.

Skill and tool names arrive as ``camelCase``, ``snake_case`` or ``kebab-case``; splitting them
lets a query word such as "weather" match ``getWeatherForecast``.

>>> tokenize("getWeatherForecast for the next_week")
['get', 'weather', 'forecast', 'next', 'week']
"""

from __future__ import annotations

import re

__all__ = ["STOP_WORDS", "split_clauses", "stem", "tokenize"]

STOP_WORDS = frozenset(
    """a an and are as at be but by can do does for from has have how i if in into is it its me
    my of on or our please so that the their them then there these this to was we were what when
    where which who will with would you your""".split()
)
"""Function words that carry no topic; dropped from documents and queries alike."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z0-9]+")
_CLAUSE = re.compile(
    r"(?<=[.?!;])\s+|,?\s+(?:and then|then|and also|also|after that|as well as|additionally|and)\s+", re.I
)
_SUFFIXES = (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))


def stem(word: str) -> str:
    """Strip one common English suffix, then a final "e", so that plural and verb forms meet.

    >>> [stem(w) for w in ("countries", "analyzing", "analyze", "tools", "class")]
    ['country', 'analyz', 'analyz', 'tool', 'class']
    """
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + replacement
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def tokenize(text: str) -> list[str]:
    """Split identifiers, lowercase, keep alphanumeric runs, drop stop words, stem."""
    words = _WORD.findall(_CAMEL.sub(" ", text).lower())
    return [stem(w) for w in words if w not in STOP_WORDS]


def split_clauses(query: str, min_words: int = 3) -> list[str]:
    """Split a request that asks for several things into its parts (at least `min_words` each).

    One embedding of a many-part request blurs its parts; embedding each part finds each.

    >>> split_clauses("Find a hotel in Paris and then book a table for two. Also check the weather")
    ['Find a hotel in Paris', 'book a table for two.', 'Also check the weather']
    """
    parts = [p.strip() for p in _CLAUSE.split(query) if p and len(p.split()) >= min_words]
    return parts or [query]
