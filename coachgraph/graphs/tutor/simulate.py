"""A tutoring session with a simulated learner, turn by turn, through the same role functions the
tutor graph's nodes call (critic's diagnosis, BKT update, planner), without the graph's
checkpointing, so that a benchmark can run thousands of sessions in seconds.

One turn is one answer. A problem stays open until it is answered right or the learner has
answered wrong `max_attempts` times (then they ask for the worked solution); after each wrong
answer the tutor gives a hint, which a learner whose prerequisites are known may learn from.
Only the first answer to a problem counts in the learner model, as in the graph.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coachgraph.agents import ParametricLearner, diagnose, prerequisites_mastered
from coachgraph.curriculum.learner import LearnerModel
from coachgraph.graphs.tutor.policies import Policy
from coachgraph.tasks import TaskDomain

__all__ = ["SessionRecord", "simulate_session"]


@dataclass
class SessionRecord:
    """What happened in one simulated session."""

    turns: int = 0
    mastered_at: int | None = None
    """The first turn after which the learner truly knew every target (None: not within budget)."""
    known_start: int = 0
    """Skills of the targets' closure the learner knew at the start."""
    known_end: int = 0
    """... and at the end (or when the targets were mastered)."""
    predictions: list[tuple[float, int]] = field(default_factory=list)
    """(the model's P(correct), the answer) of every answer."""
    answers: list[tuple[str, int]] = field(default_factory=list)
    """Every answer's skill and outcome, in order."""
    choices: list[dict[str, Any]] = field(default_factory=list)
    """Per problem: its skill and whether the model counted its prerequisites as mastered."""

    @property
    def sequences(self) -> dict[str, list[int]]:
        """Answers per skill, in order (what BKT is fitted to)."""
        found: dict[str, list[int]] = {}
        for skill, correct in self.answers:
            found.setdefault(skill, []).append(correct)
        return found

    @property
    def violations(self) -> int:
        """Problems whose skill had a prerequisite the learner model counted as unmastered."""
        return sum(1 for c in self.choices if not c["ready"])


def _known(learner: ParametricLearner, skills: Sequence[str]) -> int:
    return sum(1 for s in skills if s in learner.known)


def simulate_session(learner: ParametricLearner, model: LearnerModel, policy: Policy, domain: TaskDomain, *,
                     targets: Sequence[str], closure: Sequence[str], turns: int, max_attempts: int = 3,
                     seed: int = 0, prerequisites: Mapping[str, Sequence[str]] | None = None) -> SessionRecord:
    """Run `policy` with `learner` until the learner truly knows every target, or for `turns`
    answers at most."""
    prereqs = prerequisites if prerequisites is not None else domain.prerequisites
    rng, record = random.Random(f"simulate:{seed}"), SessionRecord(known_start=_known(learner, closure))
    problem = 0
    while record.turns < turns and record.mastered_at is None:
        skill = policy.choose(model, problem)
        record.choices.append({"skill": skill, "ready": prerequisites_mastered(model, prereqs, skill)})
        model = _work_on(learner, model, domain.draw(skill, rng), record, targets, turns, max_attempts, problem,
                         prereqs.get(skill, ()))
        problem += 1
    record.known_end = _known(learner, closure)
    return record


def _work_on(learner: ParametricLearner, model: LearnerModel, task: Any, record: SessionRecord,
             targets: Sequence[str], turns: int, max_attempts: int, problem: int,
             prerequisites: Sequence[str]) -> LearnerModel:
    """Answers to one problem until solved, given up, or out of turns; returns the updated model."""
    for attempt in range(max_attempts):
        if record.turns >= turns:
            break
        predicted = model.predict(task.skill)
        correct = diagnose(task, learner.answer(task)).correct
        learner.practise(task.skill)
        record.turns += 1
        record.predictions.append((predicted, int(correct)))
        record.answers.append((task.skill, int(correct)))
        model = model.observe(task.skill, correct, f"problem:{problem}:{attempt}", prerequisites)
        if all(t in learner.known for t in targets):
            record.mastered_at = record.turns
            break
        if correct:
            break
        learner.take_hint(task.skill)
    return model
