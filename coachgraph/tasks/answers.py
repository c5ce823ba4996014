"""Answer extraction and checking.

Extraction tries the explicit conventions first (``#### x``, ``\\boxed{x}``, a multiple-choice
letter) and falls back on the last number in the text, because small students often end with the
result but ignore the requested format.
"""

from __future__ import annotations

import re

from coachgraph.types import Task, TaskFormat

__all__ = [
    "check_answer",
    "extract_answer",
    "extract_choice",
    "extract_number",
    "normalize_number",
    "option_letter",
]

_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")
_HASHES = re.compile(r"####\s*([^\n]+)")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_CHOICE_PATTERNS = (
    re.compile(r"answer\s*(?:is|:)?\s*\(?((?-i:[A-J]))\)?(?![A-Za-z])", re.IGNORECASE),
    re.compile(r"\(([A-J])\)"),
    re.compile(r"(?<![A-Za-z])([A-J])[).:](?:\s|$)"),
    re.compile(r"^\s*([A-J])\s*$"),
)
_LETTERS = "ABCDEFGHIJ"


def option_letter(index: int) -> str:
    """The letter of option `index` (0 -> ``A``).

    >>> option_letter(3)
    'D'
    """
    return _LETTERS[index]


def normalize_number(text: str) -> str | None:
    """Canonical form of a number: no ``$`` or thousands commas, integral floats as integers.

    >>> normalize_number("$1,234.0")
    '1234'
    >>> normalize_number("−7")
    '-7'
    >>> normalize_number("seven") is None
    True
    """
    cleaned = text.strip().replace("\u2212", "-").replace("$", "").replace(",", "").rstrip(".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return str(int(value)) if value.is_integer() else repr(value)


def extract_number(text: str) -> str | None:
    """The answer after ``####``, else inside the last ``\\boxed{}``, else the last number.

    >>> extract_number("so 3 + 4 = 7\\n#### 7")
    '7'
    >>> extract_number("The result is \\\\boxed{1,665}.")
    '1665'
    >>> extract_number("12 plus 30 makes 42.")
    '42'
    """
    text = text.replace("\u2212", "-")
    for pattern in (_HASHES, _BOXED):
        found = pattern.findall(text)
        if found:
            numbers = _NUMBER.findall(found[-1])
            if numbers:
                return normalize_number(numbers[0])
    numbers = _NUMBER.findall(text)
    return normalize_number(numbers[-1]) if numbers else None


def extract_choice(text: str, n_options: int) -> str | None:
    """The option letter the text picks, limited to the first `n_options` letters.

    >>> extract_choice("The answer is (C).", 4)
    'C'
    >>> extract_choice("B) 42", 4)
    'B'
    >>> extract_choice("J", 4) is None
    True
    """
    allowed = _LETTERS[:n_options]
    for pattern in _CHOICE_PATTERNS:
        for match in pattern.finditer(text):
            letter = match.group(1).upper()
            if letter in allowed:
                return letter
    return None


def extract_answer(text: str, fmt: TaskFormat = "open") -> str | None:
    """The answer in `text`: a letter for multiple-choice formats, else a normalised number."""
    if fmt in ("choice4", "choice10"):
        return extract_choice(text, 4 if fmt == "choice4" else 10)
    return extract_number(text)


def check_answer(task: Task, text: str) -> tuple[str | None, bool]:
    """Extract the answer of `text` for `task` and say whether it is right.

    For multiple choice, a letter is checked against `correct_option`; a reply that names no
    letter but states a number is mapped to the option holding that number.
    """
    if task.correct_option is None:
        extracted = extract_number(text)
        return extracted, extracted is not None and extracted == normalize_number(task.answer)
    letter = extract_answer(text, task.format)
    if letter is None:
        number = extract_number(text)
        options = [normalize_number(o) for o in task.options]
        letter = option_letter(options.index(number)) if number in options else None
    return letter, letter == option_letter(task.correct_option)
