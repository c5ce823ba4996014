"""Teachers driving the arithmetic domain end to end with a scripted student."""

from __future__ import annotations

import random

from coachgraph.curriculum import (
    FormatLadder,
    GateConfig,
    PrerequisiteGate,
    TaskSpace,
    Teacher,
    make_teacher,
    record,
    start,
)
from coachgraph.tasks import PREREQUISITES, ArithmeticDomain, check_answer
from coachgraph.tasks.answers import option_letter
from coachgraph.types import Attempt, CurriculumStep, Outcome, Task

KNOWN = {"add-1d", "sub-1d", "mul-1d", "add-2d"}


def _reply(task: Task) -> str:
    """Right on the known skills (in any format), wrong elsewhere."""
    if task.skill not in KNOWN:
        return "#### -1"
    if task.correct_option is not None:
        return f"The answer is ({option_letter(task.correct_option)})"
    return f"#### {task.answer}"


def _round(teacher: Teacher, domain: ArithmeticDomain, rng: random.Random,
           k: int = 8) -> tuple[list[CurriculumStep], list[Outcome]]:
    steps = teacher.sample(k)
    outcomes = []
    for step in steps:
        task = domain.task_for(step, rng)
        attempts = []
        for g in range(2):
            extracted, ok = check_answer(task, _reply(task))
            attempts.append(Attempt(task_id=task.id, text=_reply(task), extracted=extracted,
                                    correct=ok, sample=g))
        outcomes.append(Outcome.from_attempts(task, attempts))
    teacher.update(outcomes)
    return steps, outcomes


def test_gated_ladder_over_sec_unlocks_and_promotes() -> None:
    domain, rng = ArithmeticDomain(), random.Random(0)
    cfg = GateConfig(prerequisites=PREREQUISITES, threshold=0.8, window=6, min_outcomes=3)
    teacher = make_teacher("prereq-gate+format-ladder+sec", TaskSpace.of(domain.skills), seed=0,
                           configs={"prereq-gate": cfg})
    assert isinstance(teacher, PrerequisiteGate) and isinstance(teacher.base, FormatLadder)
    curriculum = start(teacher, seed=0)
    for _ in range(30):
        steps, _ = _round(teacher, domain, rng)
        curriculum = record(curriculum, steps)
    # the known roots and what they unlock get mastered; add-2d-carry is never learned,
    # so add-3d (which needs it) stays locked.
    assert {"add-1d", "sub-1d", "mul-1d", "add-2d"} <= teacher.mastered
    assert "add-2d-carry" in teacher.unlocked() and "add-3d" not in teacher.unlocked()
    ladder = teacher.base
    assert ladder.format_of("add-1d") == "open" and ladder.format_of("add-2d-carry") == "choice4"
    assert not any(s.skill == "add-3d" for s in curriculum.steps)
    assert [s.step for s in curriculum.steps] == list(range(240))


def test_alp_gmm_over_levels_reports_back_its_points() -> None:
    domain, rng = ArithmeticDomain(), random.Random(1)
    space = TaskSpace.of(box=domain.box())
    teacher = make_teacher("alp-gmm", space, seed=0,
                           configs={"alp-gmm": {"fit_rate": 24, "nb_random": 24}})
    for _ in range(6):
        steps, outcomes = _round(teacher, domain, rng)
        assert [o.difficulty["level"] for o in outcomes] == [s.difficulty["level"] for s in steps]
    assert teacher.means  # fitted at 24 and 48 episodes
