"""The Curriculum artifact: recording, JSON files with named errors, TRL prompt records."""

from __future__ import annotations

import json
import random
from functools import partial
from pathlib import Path

import pytest

from coachgraph.curriculum import (
    TaskSpace,
    load_curriculum,
    make_teacher,
    record,
    save_curriculum,
    start,
    trl_records,
)
from coachgraph.errors import InputError
from coachgraph.tasks import ArithmeticDomain, format_instruction
from coachgraph.types import Curriculum


def _curriculum() -> tuple[ArithmeticDomain, Curriculum]:
    domain = ArithmeticDomain()
    teacher = make_teacher("format-ladder+sec", TaskSpace.of(domain.skills[:3]), seed=0)
    return domain, record(start(teacher, seed=0), teacher.sample(5))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    _, curriculum = _curriculum()
    path = save_curriculum(curriculum, tmp_path / "curriculum.json")
    assert load_curriculum(path) == curriculum
    data = json.loads(path.read_text())
    assert data["teacher"] == "format-ladder" and data["schema_version"] == 1
    assert [s["step"] for s in data["steps"]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("content", "message"), [
    ("{oops", "curriculum.json:1: not JSON"),
    (json.dumps({"teacher": "sec"}), "field seed"),
    (json.dumps({"teacher": "sec", "seed": 0, "steps": [{"weight": "x"}]}), "field steps.0.weight"),
    (json.dumps({"teacher": "sec", "seed": 0, "schema_version": 9}), "schema_version 9"),
])
def test_load_errors_name_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "curriculum.json"
    path.write_text(content)
    with pytest.raises(InputError, match="curriculum.json") as err:
        load_curriculum(path)
    assert message in str(err.value)


def test_trl_records_follow_curriculum_order() -> None:
    domain, curriculum = _curriculum()
    make = partial(domain.task_for, rng=random.Random(0))
    records = list(trl_records(curriculum, make,
                               instruction=lambda t: format_instruction(t.format)))
    assert [r["skill"] for r in records] == [s.skill for s in curriculum.steps]
    assert [r["weight"] for r in records] == [s.weight for s in curriculum.steps]
    first = records[0]
    assert first["prompt"][0]["role"] == "user" and first["format"] == "choice4"
    assert first["prompt"][0]["content"].endswith(format_instruction("choice4"))
    assert first["answer"] in first["prompt"][0]["content"]  # one of the four options
    plain = next(trl_records(curriculum, make, conversational=False))
    assert isinstance(plain["prompt"], str)
