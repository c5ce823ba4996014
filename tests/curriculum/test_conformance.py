"""Every registered teacher honours the shared API: seeded, JSON state that round-trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coachgraph.curriculum import TEACHERS, TaskSpace, Teacher, TeacherWrapper, make_teacher
from coachgraph.types import CurriculumStep, Outcome

SPACE = TaskSpace.of(["a", "b", "c"], {"level": (0.0, 3.0)})
SMALL = {"alp-gmm": {"fit_rate": 12, "nb_random": 12},
         "covar-gmm": {"fit_rate": 12, "nb_random": 12},
         "riac": {"max_region_size": 10}}
BASES = sorted(n for n, cls in TEACHERS.items() if not issubclass(cls, TeacherWrapper))
SPECS = BASES + [f"{n}+random" for n, cls in TEACHERS.items() if issubclass(cls, TeacherWrapper)]


def _feed(teacher: Teacher, rounds: int, seed: int) -> list[CurriculumStep]:
    rng = np.random.default_rng(seed)
    steps: list[CurriculumStep] = []
    for _ in range(rounds):
        batch = teacher.sample(4)
        steps.extend(batch)
        teacher.update([Outcome(task_id=str(s.step), skill=s.skill, category=s.skill or "a",
                                difficulty=s.difficulty, format=s.format, horizon=s.horizon,
                                rewards=rng.integers(0, 2, 4).astype(float).tolist())
                        for s in batch])
    return steps


def test_registry_has_every_algorithm() -> None:
    assert {"random", "sec", "alp-gmm", "irt", "stat-sel", "format-ladder", "h1-chain",
            "prereq-gate", "riac", "covar-gmm", "plr", "learning-progress",
            "learnability"} <= set(TEACHERS)


@pytest.mark.parametrize("spec", SPECS)
def test_same_seed_same_decisions(spec: str) -> None:
    first = _feed(make_teacher(spec, SPACE, seed=4, configs=SMALL), 6, 0)
    second = _feed(make_teacher(spec, SPACE, seed=4, configs=SMALL), 6, 0)
    assert first == second


@pytest.mark.parametrize("spec", SPECS)
def test_state_dict_round_trips_through_json(spec: str) -> None:
    teacher = make_teacher(spec, SPACE, seed=1, configs=SMALL)
    _feed(teacher, 5, 1)
    state = json.loads(json.dumps(teacher.state_dict()))
    clone = make_teacher(spec, SPACE, seed=99, configs=SMALL)
    clone.load_state_dict(state)
    assert _feed(clone, 4, 2) == _feed(teacher, 4, 2)


def test_loading_another_teachers_state_fails() -> None:
    state = make_teacher("sec", SPACE).state_dict()
    with pytest.raises(ValueError, match="'sec'"):
        make_teacher("stat-sel", SPACE).load_state_dict(state)


def test_spec_errors() -> None:
    with pytest.raises(KeyError, match="known: "):
        make_teacher("bandit", SPACE)
    with pytest.raises(ValueError, match="cannot come last"):
        make_teacher("sec+format-ladder", SPACE)
    with pytest.raises(ValueError, match="can only come last"):
        make_teacher("sec+random", SPACE)
    with pytest.raises(TypeError, match="unknown option"):
        make_teacher("sec", SPACE, configs={"sec": {"beta": 1}})


def test_seeds_are_local() -> None:
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    _feed(make_teacher("format-ladder+sec", SPACE, seed=0), 3, 0)
    assert np.random.random() == before
