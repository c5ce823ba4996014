"""GSM8K-style JSONL: one ``{"question": ..., "answer": "... #### final"}`` per line, as tasks and as
a task domain.

The lines before ``####`` become reference steps (calculator annotations ``<<...>>`` removed).
A record may name its ``skill`` (a string) and that skill's ``prerequisites`` (a list of skill
names); without them every problem belongs to one skill named after the file. A malformed line
stops the load with an error naming the file and line, instead of being skipped, so a data set
is never silently shortened.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coachgraph.errors import InputError
from coachgraph.tasks.answers import normalize_number
from coachgraph.tasks.base import LEVEL, TaskDomain, register_domain, skill_at_level
from coachgraph.tasks.formats import render
from coachgraph.types import CurriculumStep, Task

__all__ = ["JsonlDomain", "load_gsm8k", "parse_gsm8k_answer"]

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


def _prerequisites(record: dict[str, Any]) -> tuple[str, ...]:
    value = record.get("prerequisites", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("field 'prerequisites' must be a list of skill names")
    return tuple(v.strip() for v in value)


def _task(record: Any, path: Path, line: int, skill: str, category: str) -> Task:
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    question = _field(record, "question")
    steps, final = parse_gsm8k_answer(_field(record, "answer"))
    skill = _field(record, "skill").strip() if "skill" in record else skill
    item = f"{path.stem}:{line}"
    return Task(id=item, skill=skill, category=skill if "skill" in record else category,
                question=question.strip(), answer=final, steps=steps,
                metadata={"item_id": item, "source": str(path),
                          **({"prerequisites": " ".join(_prerequisites(record))} if "prerequisites" in record else {})})


def load_gsm8k(path: str | Path, skill: str = "word-problem", category: str = "gsm8k") -> list[Task]:
    """Read every non-blank line of `path` as an open-format task (of `skill` unless it names one).

    Raises:
        InputError: a line is not JSON, lacks ``question`` or ``answer``, or has no numeric
            ``#### final``; the message names ``file:line`` and the field.
    """
    path = Path(path)
    tasks = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot read the problem file: {err.strerror}", source=str(path)) from err
    with handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                tasks.append(_task(json.loads(line), path, line_no, skill, category))
            except (ValueError, UnicodeDecodeError) as err:
                raise InputError(str(err), source=f"{path}:{line_no}") from err
    if not tasks:
        raise InputError("the problem file holds no problems", source=str(path))
    return tasks


def _held_out(task: Task, share: float) -> bool:
    """Whether `task` belongs to the held-out split: a fixed hash of its question, so the split
    is the same in every process and does not depend on the file's order."""
    digest = int(hashlib.sha1(task.question.encode()).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < share


class JsonlDomain:
    """The problems of a GSM8K-style JSONL file as a `TaskDomain`.

    Each skill's problems are split by a hash of the question into training and held-out ones
    (`heldout_share` of them held out, at least one of each when a skill has two or more).

    Args:
        path: the JSONL file.
        heldout_share: share of each skill's problems kept for evaluation.
    """

    def __init__(self, path: str | Path, heldout_share: float = 0.2) -> None:
        self.path = Path(path)
        tasks = load_gsm8k(self.path, skill=_skill_name(self.path), category=_skill_name(self.path))
        self._skills = tuple(dict.fromkeys(t.skill for t in tasks))
        self._prerequisites = _prerequisite_map(tasks, self._skills, self.path)
        self._train: dict[str, list[Task]] = {s: [] for s in self._skills}
        self._heldout: dict[str, list[Task]] = {s: [] for s in self._skills}
        for task in tasks:
            held = _held_out(task, heldout_share)
            (self._heldout if held else self._train)[task.skill].append(
                task.model_copy(update={"metadata": {**task.metadata, "split": "heldout" if held else "train"}}))
        for skill in self._skills:
            _balance(self._train[skill], self._heldout[skill])

    @property
    def name(self) -> str:
        """The file's stem, e.g. ``gsm8k`` for ``gsm8k.jsonl``."""
        return _skill_name(self.path)

    @property
    def skills(self) -> tuple[str, ...]:
        """Skills in the order they first appear in the file."""
        return self._skills

    @property
    def prerequisites(self) -> Mapping[str, tuple[str, ...]]:
        """Skill -> prerequisites named by its records."""
        return self._prerequisites

    def box(self) -> dict[str, tuple[float, float]]:
        """One knob, `LEVEL`, spanning the skill list."""
        return {LEVEL: (0.0, float(len(self._skills)))}

    def draw(self, skill: str, rng: random.Random) -> Task:
        """A training problem of `skill` (problems repeat: a file holds finitely many)."""
        pool = self._train.get(skill)
        if not pool:
            raise InputError(f"no training problems of skill {skill!r} in {self.path}", source="skill")
        return rng.choice(pool)

    def task_for(self, step: CurriculumStep, rng: random.Random) -> Task:
        """The step's skill (or the skill at its level), shown in its format when the answer is a
        whole number (other answers stay open)."""
        task = self.draw(step.skill or skill_at_level(self._skills, step.difficulty.get(LEVEL, 0.0)), rng)
        if step.format != "open" and task.answer.lstrip("-").isdigit():
            shown = render(task.question, int(task.answer), task.steps, step.format, rng)
            task = task.model_copy(update={"question": shown.question, "format": step.format,
                                           "options": list(shown.options), "correct_option": shown.correct_option,
                                           "id": f"{task.id}-{step.format}"})
        return task.model_copy(update={"difficulty": {**task.difficulty, **step.difficulty}})

    def heldout(self, skill: str) -> list[Task]:
        """The held-out problems of `skill`."""
        if skill not in self._heldout:
            raise InputError(f"no skill {skill!r} in {self.path}; known: {', '.join(self._skills)}", source="skill")
        return self._heldout[skill]


def _skill_name(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "problems"


def _balance(train: list[Task], heldout: list[Task]) -> None:
    """Move one problem across when a skill with two or more problems has an empty split."""
    if not heldout and len(train) >= 2:
        heldout.append(train.pop())
    elif not train and len(heldout) >= 2:
        train.append(heldout.pop())


def _prerequisite_map(tasks: list[Task], skills: tuple[str, ...], path: Path) -> dict[str, tuple[str, ...]]:
    found: dict[str, set[str]] = {s: set() for s in skills}
    for task in tasks:
        found[task.skill].update(str(task.metadata.get("prerequisites") or "").split())
    unknown = {p for pres in found.values() for p in pres} - set(skills)
    if unknown:
        raise InputError(f"prerequisites name skills with no problems: {', '.join(sorted(unknown))}",
                         source=str(path))
    return {s: tuple(sorted(found[s])) for s in skills}


@register_domain("jsonl")
def _jsonl(argument: str) -> TaskDomain:
    if not argument:
        raise InputError("the jsonl domain needs a file: jsonl:<path>", source="domain")
    return JsonlDomain(Path(argument).expanduser())
