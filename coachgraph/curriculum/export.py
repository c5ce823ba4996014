"""The `Curriculum` artifact: recording a teacher's decisions, JSON files, prompt lists for TRL.

TRL and verl have no curriculum sampler; both accept an ordered prompt set (TRL with
``shuffle_dataset=False``), so the adapter turns a recorded curriculum into exactly that, with
each record's sampling weight kept for trainers that weight losses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from coachgraph.curriculum.base import Teacher
from coachgraph.errors import InputError
from coachgraph.types import Curriculum, CurriculumStep, Task

__all__ = ["load_curriculum", "record", "save_curriculum", "start", "trl_records"]


def record(curriculum: Curriculum, steps: Iterable[CurriculumStep]) -> Curriculum:
    """A copy of `curriculum` with `steps` appended in order.

    >>> c = record(Curriculum(teacher="random", seed=0), [CurriculumStep(skill="add-1d")])
    >>> [s.skill for s in c.steps]
    ['add-1d']
    """
    return curriculum.model_copy(update={"steps": [*curriculum.steps, *steps]})


def start(teacher: Teacher, seed: int) -> Curriculum:
    """An empty curriculum for `teacher` (its spec name and the run seed)."""
    return Curriculum(teacher=teacher.name, seed=seed)


def save_curriculum(curriculum: Curriculum, path: str | Path) -> Path:
    """Write ``curriculum.json`` (indented, stable key order) and return its path."""
    path = Path(path)
    path.write_text(curriculum.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def _where(err: ValidationError) -> str:
    first = err.errors()[0]
    return ".".join(str(part) for part in first["loc"]) or "(root)"


def load_curriculum(path: str | Path) -> Curriculum:
    """Read a curriculum file.

    Raises:
        InputError: the file is not JSON, or a field is missing, wrong or of an unknown
            `schema_version`; the message names the file and the field.
    """
    path = Path(path)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"not JSON: {err.msg}", source=f"{path}:{err.lineno}") from err
    try:
        return Curriculum.model_validate(data)
    except ValidationError as err:
        msg = err.errors()[0]["msg"]
        raise InputError(f"field {_where(err)}: {msg}", source=str(path)) from err


def trl_records(curriculum: Curriculum, make_task: Callable[[CurriculumStep], Task],
                conversational: bool = True, instruction: Callable[[Task], str] | None = None
                ) -> Iterator[dict[str, Any]]:
    """One prompt record per step, in curriculum order, for an unshuffled TRL dataset.

    Args:
        curriculum: the recorded decisions.
        make_task: turns a step into a task (e.g. ``partial(domain.task_for, rng=rng)``).
        conversational: prompts as chat messages (TRL's conversational format) or plain text.
        instruction: an answering instruction appended to each question.

    Yields:
        ``{"prompt", "answer", "skill", "format", "weight", "step", "reason"}`` dicts.
    """
    for step in curriculum.steps:
        task = make_task(step)
        text = task.question + (f"\n{instruction(task)}" if instruction else "")
        prompt: Any = [{"role": "user", "content": text}] if conversational else text
        yield {"prompt": prompt, "answer": task.answer, "skill": task.skill,
               "format": task.format, "weight": step.weight, "step": step.step,
               "reason": step.reason}
