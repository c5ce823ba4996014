"""Loader for GSM8K-style JSONL: one ``{"question": ..., "answer": "... #### final"}`` per line.

The lines before ``####`` become reference steps (calculator annotations ``<<...>>`` removed).
A malformed line stops the load with an error naming the file and line, instead of being
skipped, so a data set is never silently shortened.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from coachgraph.errors import InputError
from coachgraph.tasks.answers import normalize_number
from coachgraph.types import Task

__all__ = ["load_gsm8k", "parse_gsm8k_answer"]

_CALCULATOR = re.compile(r"<<[^>]*>>")


def parse_gsm8k_answer(answer: str) -> tuple[list[str], str]:
    """Reference steps and normalised final answer of a GSM8K answer field.

    >>> parse_gsm8k_answer("He has 3*4=<<3*4=12>>12 eggs.\\n#### 12")
    (['He has 3*4=12 eggs.'], '12')
    """
    body, sep, final = answer.rpartition("####")
    if not sep:
        raise ValueError("answer has no '#### final' line")
    value = normalize_number(final.strip())
    if value is None:
        raise ValueError(f"final answer {final.strip()!r} is not a number")
    steps = [_CALCULATOR.sub("", line).strip() for line in body.splitlines()]
    return [s for s in steps if s], value


def _field(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"field {name!r} must be a non-empty string")
    return value


def _task(record: Any, path: Path, line: int, skill: str, category: str) -> Task:
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    question = _field(record, "question")
    steps, final = parse_gsm8k_answer(_field(record, "answer"))
    item = f"{path.stem}:{line}"
    return Task(id=item, skill=skill, category=category, question=question.strip(),
                answer=final, steps=steps, metadata={"item_id": item, "source": str(path)})


def load_gsm8k(path: str | Path, skill: str = "word-problem", category: str = "gsm8k") -> list[Task]:
    """Read every non-blank line of `path` as an open-format task of `skill`.

    Raises:
        InputError: a line is not JSON, lacks ``question`` or ``answer``, or has no numeric
            ``#### final``; the message names ``file:line`` and the field.
    """
    path = Path(path)
    tasks = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                tasks.append(_task(json.loads(line), path, line_no, skill, category))
            except ValueError as err:
                raise InputError(str(err), source=f"{path}:{line_no}") from err
    return tasks
