"""Option values shared by the commands: a comma-separated list read the same way everywhere."""

from __future__ import annotations

__all__ = ["comma_list"]


def comma_list(text: str) -> tuple[str, ...]:
    """The names of ``a, b,,c`` without blanks.

    >>> comma_list(" add-1d, sub-1d,,")
    ('add-1d', 'sub-1d')
    """
    return tuple(s.strip() for s in text.split(",") if s.strip())
